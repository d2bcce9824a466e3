/*
 * crt0.S - start-up code and vector table of the FT900 firmware.
 *
 * Program memory layout (AN_324 section 2 / docs/hardware/memory-map.md section 1), as the FT9xx SDK's
 * crt0.S has it, so that the vendor's bootloader and debugger work with this image:
 *   0x00          reset vector           -> 0x3FFFC, the bootloader (__PMSIZE - 4), which checks
 *                                           for a programmer/debugger and enters the program
 *                                           at 0x8C
 *   0x04          watchdog vector        -> stub, handler vector_table[33]
 *   0x08 + 4*p    interrupt priority p   -> stub, handler vector_table[p]   (p = 0..31)
 *   0x88          NMI (debugger)         -> 0x3FFF8, the bootloader's debug interpreter
 *                                           (__PMSIZE - 8); vector_table[32] is never called
 *   0x8C          program entry          -> _start
 *   0x90          _exithook              the address a debugger catches program exit at
 * The simulator has no bootloader: it starts at 0x8C when the bootloader area is empty
 * (docs/hardware/memory-map.md section 1), and reports any other jump into that area.
 *
 * The CPU enters an interrupt by pushing only the return address. Each stub saves the
 * registers a C function may clobber ($cc = r30 and r0..r12 per the GCC ABI, plus r13 as the
 * FT900 start-up code conventionally does), calls the handler with the priority (or 32/33) in
 * r0, restores them and ends the in-service level with `reti`. The RAM word __irq_depth
 * (hal/interrupt.c) counts the handlers running.
 *
 * _start: stack at the top of RAM (sp = 0x10000, the first push lands at 0xFFFC; implicit
 * stack updates wrap sp to 16 bits), all interrupts masked (IRQ Control byte 0x100E3 = 0x80),
 * .data copied from its load image in program memory with lpmi, .bss cleared (.noinit is
 * not: it keeps what the firmware left there across a watchdog reset), the stack painted from
 * __stack_limit up to just below sp with STACK_PAINT (its high-water mark is where the paint
 * ends) and its lowest word set to STACK_GUARD (a stack that overflowed into .noinit/.bss
 * overwrote it: the firmware checks), then main(); _exit(main's return value).
 */

#define RAM_BIAS        0x800000
#define IRQ_MASK_BYTE   0x100E3
#define EXIT_PORT       0x1FFFC
#define STACK_TOP       0x10000
#define PMSIZE          0x40000
#define STACK_PAINT     0x5AA55AA5          /* hal/include/ft900_sys.h: SYS_STACK_PAINT */
#define STACK_GUARD     0x57ACC0DE          /* hal/include/ft900_sys.h: SYS_STACK_GUARD */

    .section .vectors, "ax", @progbits
    .global __vectors
__vectors:
    jmp     PMSIZE - 4              /* 0x00 reset: the bootloader */
    jmp     __watchdog_stub         /* 0x04 watchdog */
    .irp p, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    jmp     __irq_stub_\p           /* 0x08 + 4*p */
    .endr
    jmp     PMSIZE - 8              /* 0x88 NMI: the bootloader's debugger */
    jmp     _start                  /* 0x8C program entry */
    .global _exithook
_exithook:                          /* 0x90: where a debugger catches program exit */
    return

    .section .text.__crt0, "ax", @progbits
    .p2align 2

/* One stub per vector: save $cc, r0, r1; r0 = slot number, r1 = vector_table[slot]. */
    .macro VECTOR_STUB name, slot
\name:
    push.l  $cc
    push.l  $r0
    push.l  $r1
    ldk.l   $r0, \slot
    lda.l   $r1, vector_table - RAM_BIAS + 4 * \slot
    jmp     __irq_common
    .endm

    .irp p, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    VECTOR_STUB __irq_stub_\p, \p
    .endr
    VECTOR_STUB __watchdog_stub, 33

    .global __irq_common
__irq_common:
    push.l  $r2
    push.l  $r3
    push.l  $r4
    push.l  $r5
    push.l  $r6
    push.l  $r7
    push.l  $r8
    push.l  $r9
    push.l  $r10
    push.l  $r11
    push.l  $r12
    push.l  $r13
    lda.l   $r2, __irq_depth - RAM_BIAS     /* handler nesting depth, for the HAL */
    add.l   $r2, $r2, 1
    sta.l   __irq_depth - RAM_BIAS, $r2
    calli   $r1
    lda.l   $r2, __irq_depth - RAM_BIAS
    sub.l   $r2, $r2, 1
    sta.l   __irq_depth - RAM_BIAS, $r2
    /* Interrupted in sys_wait_for_interrupt's `jmp .`? Return past it (the return address is
     * the word the CPU pushed, above $cc and r0..r13: sp + 60). */
    ldi.l   $r2, $sp, 60
    ldk.l   $r3, __idle_spin
    cmp.l   $r2, $r3
    jmpc    nz, 1f
    add.l   $r2, $r2, 4
    sti.l   $sp, 60, $r2
1:
    pop.l   $r13
    pop.l   $r12
    pop.l   $r11
    pop.l   $r10
    pop.l   $r9
    pop.l   $r8
    pop.l   $r7
    pop.l   $r6
    pop.l   $r5
    pop.l   $r4
    pop.l   $r3
    pop.l   $r2
    pop.l   $r1
    pop.l   $r0
    pop.l   $cc
    reti

/*
 * void sys_wait_for_interrupt(void): idles until the next interrupt has been handled.
 *
 * The FT32 has no wait-for-interrupt instruction, so the idle loop is a jump to itself; the
 * interrupt stub above sees that it interrupted this jump and returns to the `return` after
 * it instead. On silicon this is an ordinary busy wait; the simulator recognises `jmp .` and
 * skips to its next event, so idle firmware costs no host time. Call it with interrupts
 * enabled (otherwise it never returns); an event that arrives just before the call is seen
 * at the next interrupt (at the latest the next 1 ms tick).
 */
    .global sys_wait_for_interrupt
    .type   sys_wait_for_interrupt, @function
sys_wait_for_interrupt:
__idle_spin:
    jmp     __idle_spin
    return
    .size   sys_wait_for_interrupt, . - sys_wait_for_interrupt

    .global _start
    .type   _start, @function
_start:
    ldk.l   $sp, STACK_TOP
    ldk.l   $r0, 0x80
    sta.b   IRQ_MASK_BYTE, $r0      /* mask every interrupt (except IRQ 0) */

    /* Copy .data (and .rodata, which lives in RAM on FT32) from program memory. */
    ldk.l   $r0, __data_load_start
    ldk.l   $r1, __data_start - RAM_BIAS
    ldk.l   $r2, __data_end - RAM_BIAS
    jmp     2f
1:  lpmi.l  $r3, $r0, 0
    sti.l   $r1, 0, $r3
    add.l   $r0, $r0, 4
    add.l   $r1, $r1, 4
2:  cmp.l   $r1, $r2
    jmpc    b, 1b

    /* Clear .bss. */
    ldk.l   $r1, __bss_start - RAM_BIAS
    ldk.l   $r2, __bss_end - RAM_BIAS
    ldk.l   $r3, 0
    jmp     4f
3:  sti.l   $r1, 0, $r3
    add.l   $r1, $r1, 4
4:  cmp.l   $r1, $r2
    jmpc    b, 3b

    /* Paint the stack (from __stack_limit to 64 bytes below sp) and set the guard word. */
    ldk.l   $r1, __stack_limit - RAM_BIAS
    ldk.l   $r2, STACK_TOP - 64
    ldk.l   $r3, STACK_PAINT >> 16      /* 32-bit constants: two 16-bit halves */
    ashl.l  $r3, $r3, 16
    ldk.l   $r4, STACK_PAINT & 0xFFFF
    or.l    $r3, $r3, $r4
    jmp     6f
5:  sti.l   $r1, 0, $r3
    add.l   $r1, $r1, 4
6:  cmp.l   $r1, $r2
    jmpc    b, 5b
    ldk.l   $r3, STACK_GUARD >> 16
    ashl.l  $r3, $r3, 16
    ldk.l   $r4, STACK_GUARD & 0xFFFF
    or.l    $r3, $r3, $r4
    sta.l   __stack_limit - RAM_BIAS, $r3

    ldk.l   $fp, 0
    sub.l   $sp, $sp, 24            /* the ABI's outgoing-argument reserve */
    call    main
    jmp     _exit
    .size   _start, . - _start

/* void _exit(int status): the simulator stops at the write to 0x1FFFC with status r0
   (an unused address on silicon); then, as the SDK's crt0, through _exithook (a debugger's
   breakpoint) into a spin, which a started watchdog ends with a chip reset. */
    .global _exit
    .type   _exit, @function
_exit:
    sta.l   EXIT_PORT, $r0
    call    _exithook
7:  jmp     7b
    .size   _exit, . - _exit
