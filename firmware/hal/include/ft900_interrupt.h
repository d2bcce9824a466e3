/*
 * ft900_interrupt.h - interrupt controller driver (AN_324 section 6).
 *
 * The CPU takes the vector of the *priority* assigned to an IRQ input: input k with priority
 * p enters PM 0x08 + 4p, whose stub (startup/crt0.S) calls vector_table[p]. So attaching a
 * handler writes IRQ_ASSIGN(k) = p and vector_table[p] = handler. Priority 0 is the highest.
 * Two inputs with the same priority share a handler slot.
 *
 * There is no per-input mask in the controller: a source is enabled in its peripheral.
 * The global mask (bit 7 of byte 0x100E3) blocks everything except IRQ 0.
 */
#ifndef FT900_INTERRUPT_H
#define FT900_INTERRUPT_H

#include <stdint.h>
#include "ft900_intc_regs.h"

typedef void (*interrupt_handler_t)(void);

/* Handler slots: 0..31 priorities, 32 NMI, 33 watchdog (vector 0x04). */
#define INTERRUPT_SLOTS         34
#define INTERRUPT_SLOT_NMI      32
#define INTERRUPT_SLOT_WATCHDOG 33

/* The table the vector stubs dispatch through (RAM, initialised to the default handlers). */
extern interrupt_handler_t vector_table[INTERRUPT_SLOTS];

/* Assigns `priority` (0..31) to input `irq` (0..31) and installs `handler` for that priority.
   Returns 0, or -1 for an out-of-range argument or a null handler. */
int interrupt_attach(unsigned irq, unsigned priority, interrupt_handler_t handler);
/* Moves input `irq` to `priority`, taking its handler along (the slot it leaves gets the
   default handler unless another input still uses it). Returns 0 or -1. */
int interrupt_set_priority(unsigned irq, unsigned priority);
/* Gives input `irq` back its reset priority and puts the default handler in the slot it used. */
void interrupt_detach(unsigned irq);
/* The handler of the watchdog vector. */
void interrupt_set_watchdog_handler(interrupt_handler_t handler);

void interrupt_enable_globally(void);
void interrupt_disable_globally(void);
/* 1 while the global mask is set. */
int interrupt_globally_masked(void);

/* Nested interrupts: a request of strictly higher priority (lower value) interrupts a handler,
   up to `max_levels` (1..16) levels. Changed with the global mask set, as AN_324 requires.
   Returns 0 or -1 for a bad level count. */
int interrupt_enable_nesting(unsigned max_levels);
void interrupt_disable_nesting(void);

/* Critical sections: interrupt_save() masks every interrupt atomically (exa.b on the mask
   byte) and returns the previous mask byte; interrupt_restore() puts it back. They nest. */
static inline uint8_t interrupt_save(void)
{
    uint32_t v = IRQ_CTRL_MASK_ALL;
    __asm__ volatile("exa.b %0, 0x100E3\n\tnop\n\tnop" : "+r"(v) : : "memory");
    return (uint8_t)v;
}

static inline void interrupt_restore(uint8_t saved)
{
    __asm__ volatile("" : : : "memory");
    IRQ_CTRL_MASK = saved;
}

/* Number of interrupt handlers running (nested ones count each); 0 in thread context. */
unsigned interrupt_depth(void);

/* Interrupts that reached a slot with no handler attached, and the last such slot. */
uint32_t interrupt_spurious_count(void);
unsigned interrupt_spurious_last(void);
/* Watchdog vector entries handled by the default watchdog handler. */
uint32_t interrupt_watchdog_count(void);

#endif /* FT900_INTERRUPT_H */
