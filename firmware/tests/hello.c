/*
 * hello - boot test: chip identification, start-up code (.data copied, .bss cleared, stack,
 * interrupt mask, vector table), the C library pieces and the formatter.
 */
#include <string.h>
#include "ft900_interrupt.h"
#include "ft900_sys.h"
#include "testlib.h"

/* Linker-script symbols (biased RAM addresses; their low 16 bits are the RAM address). */
extern char __data_start[], __data_end[], __bss_start[], __bss_end[], _end[];
extern char __data_load_start[], __data_load_end[];
void interrupt_default_handler(unsigned slot);

static volatile uint32_t data_word = 0x12345678u;
static volatile int16_t data_neg = -1234;
static char data_text[] = "initialised data";
static const uint16_t rodata_table[5] = {1, 1, 2, 3, 5};
static struct {
    uint8_t a;
    uint32_t b;
    char c[3];
} data_struct = {0xA5, 0xDEADBEEFu, "xy"};
static volatile uint32_t bss_word;
static volatile uint8_t bss_block[1024];

static uint32_t ram_addr(const void *p)
{
    return (uint32_t)(uintptr_t)p & 0xFFFFu;
}

/* Recursion with 64-byte frames that the compiler cannot drop: returns the stack high-water mark
   measured at the deepest level. */
static uint32_t __attribute__((noinline)) stack_eat(unsigned n)
{
    volatile uint8_t frame[64];
    frame[0] = (uint8_t)n;
    if (n == 0)
        return sys_stack_high_water() + frame[0];
    return stack_eat(n - 1u) + frame[0];
}

static uint32_t pm_word(uint32_t pm_addr)
{
    uint32_t v;
    __asm__ volatile("lpmi.l %0, %1, 0" : "=r"(v) : "r"(pm_addr));
    return v;
}

static uint32_t stack_pointer(void)
{
    uint32_t sp;
    __asm__ volatile("move.l %0, $sp" : "=r"(sp));
    return sp;
}

int main(void)
{
    /* Observe the state crt0 left before anything else changes it. */
    uint8_t mask_at_boot = IRQ_CTRL_MASK;
    uint32_t sp = stack_pointer();

    test_begin("hello");
    tprintf("hello from the FT900\n");

    uint32_t id = sys_chip_id();
    tprintf("HIPID %08lx: model %04lx revision %04lx\n", id, HIPID_MODEL_OF(id), HIPID_REVISION_OF(id));
    CHECK(sys_is_ft900(), "chip is an FT900 (HIPID model %04lx)", HIPID_MODEL_OF(id));
    CHECK(HIPID_REVISION_OF(id) <= 0x0002u, "revision %s (%04lx)", sys_is_rev_b() ? "B" : "C",
          HIPID_REVISION_OF(id));
    CHECK((EFCFG & EFCFG_MAC_ACTIVE) != 0, "EFCFG: Ethernet MAC present (%08lx)", EFCFG);

    /* .data was copied from program memory. */
    CHECK(data_word == 0x12345678u, ".data word = %08lx", data_word);
    CHECK(data_neg == -1234, ".data short = %d", data_neg);
    CHECK(strcmp(data_text, "initialised data") == 0, ".data string = \"%s\"", data_text);
    CHECK(rodata_table[4] == 5 && rodata_table[3] == 3, ".rodata table in RAM");
    CHECK(data_struct.a == 0xA5 && data_struct.b == 0xDEADBEEFu && data_struct.c[1] == 'y',
          ".data struct");
    uint32_t image = (uint32_t)(uintptr_t)__data_load_start;
    uint32_t first = *(volatile uint32_t *)(uintptr_t)ram_addr(__data_start);
    CHECK(pm_word(image) == first, ".data image at PM %05lx matches RAM %04lx (%08lx)", image,
          ram_addr(__data_start), first);
    data_word = 7;
    CHECK(data_word == 7, ".data is writable");

    /* .bss was cleared. */
    unsigned nonzero = 0;
    for (unsigned i = 0; i < sizeof bss_block; i++)
        nonzero += bss_block[i] != 0;
    CHECK(bss_word == 0 && nonzero == 0, ".bss cleared (%u non-zero bytes)", nonzero);
    CHECK(ram_addr(__bss_end) <= ram_addr(_end), ".bss ends at %04lx, _end %04lx",
          ram_addr(__bss_end), ram_addr(_end));

    /* Stack at the top of RAM, below it nothing used. */
    CHECK(sp > ram_addr(_end) && sp < 0x10000u && sp >= 0xF000u, "stack pointer %04lx", sp);
    tprintf("RAM: data %u bytes, bss %u bytes, free for the stack %lu bytes\n",
            (unsigned)(__data_end - __data_start), (unsigned)(__bss_end - __bss_start),
            0x10000u - ram_addr(_end));

    /* Interrupts masked by crt0, default handlers everywhere. */
    CHECK(mask_at_boot == 0x80, "interrupts masked at boot (0x100E3 = %02x)", mask_at_boot);
    unsigned defaults = 0;
    for (unsigned p = 0; p <= INTERRUPT_SLOT_NMI; p++)
        defaults += vector_table[p] == (interrupt_handler_t)interrupt_default_handler;
    CHECK(defaults == 33, "vector_table: %u of 33 slots hold the default handler", defaults);
    unsigned prio_ok = 0;
    for (unsigned k = 0; k < IRQ_COUNT; k++)
        prio_ok += IRQ_ASSIGN(k) == k;
    CHECK(prio_ok == IRQ_COUNT, "IRQ k has priority k after reset (%u of 32)", prio_ok);
    CHECK(interrupt_spurious_count() == 0, "no spurious interrupts");

    /* Library pieces: newlib string functions, hardware divide, the formatter. */
    char buf[64];
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "abc", 4);
    CHECK(strlen(buf) == 3 && buf[5] == 'x', "memset/memcpy/strlen");
    volatile uint32_t a = 1000003u, b = 97u;
    volatile int32_t c = -7, d = 2;
    CHECK(a / b == 10309u && a % b == 30u && c / d == -3 && c % d == -1,
          "division (unsigned and signed)");
    fmt_snprintf(buf, sizeof buf, "[%5d|%-4d|%05u|%x|%X|%08x|%s|%c|%%|%3s]", -42, 7, 42u,
                 0xbeefu, 0xbeefu, 0x1234u, "str", 'Z', "ab");
    CHECK(strcmp(buf, "[  -42|7   |00042|beef|BEEF|00001234|str|Z|%| ab]") == 0,
          "formatter: %s", buf);
    int n = fmt_snprintf(buf, 8, "%d", 123456789);
    CHECK(n == 9 && strcmp(buf, "1234567") == 0, "formatter truncates (%d, %s)", n, buf);
    fmt_snprintf(buf, sizeof buf, "%d %u %x", (int)0x80000000u, 0xFFFFFFFFu, 0u);
    CHECK(strcmp(buf, "-2147483648 4294967295 0") == 0, "formatter extremes: %s", buf);


    /* The stack: painted by crt0 with a guard word at its limit (startup/ft900.ld). */
    extern uint32_t __stack_limit[];
    CHECK(sys_stack_guard_ok(), "stack guard intact at %04lx", ram_addr(__stack_limit));
    uint32_t hw0 = sys_stack_high_water();
    CHECK(hw0 > 0 && hw0 < 1024u, "stack high-water at boot %lu bytes", (unsigned long)hw0);
    uint32_t hw1 = stack_eat(40);
    CHECK(hw1 >= hw0 + 40u * 64u && hw1 < hw0 + 40u * 64u + 1024u,
          "stack high-water after 40 frames of 64+ bytes: %lu", (unsigned long)hw1);
    CHECK(sys_stack_size() == 0x10000u - ram_addr(__stack_limit), "stack size %lu",
          (unsigned long)sys_stack_size());
    /* What an overflow does to the guard word is seen (then the guard is put back). */
    uint32_t saved = __stack_limit[0];
    __stack_limit[0] = 0x12345678u;
    int seen = !sys_stack_guard_ok();
    __stack_limit[0] = saved;
    CHECK(seen && sys_stack_guard_ok(), "an overwritten stack guard is detected");
    return test_end();
}
