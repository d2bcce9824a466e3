/*
 * interrupt.c - interrupt controller driver. See ft900_interrupt.h.
 */
#include "ft900_interrupt.h"
#include "ft900_timer_regs.h"

static volatile uint32_t spurious_count;
static volatile unsigned spurious_last;
static volatile uint32_t watchdog_count;

/* Maintained by the vector stubs in crt0.S around every handler call. */
volatile uint32_t __irq_depth;

/* Called by a vector stub with the slot number in r0 when nothing is attached. A source
   that keeps requesting will come back at once: attach a handler that clears it. */
void interrupt_default_handler(unsigned slot);
void interrupt_default_handler(unsigned slot)
{
    spurious_count++;
    spurious_last = slot;
}

/* Default watchdog handler: acknowledge the expiry (wdg_int is RW1C; writing back the value
   read clears it and keeps the other bits) and count it. A second expiry without a kick
   resets the chip. */
static void watchdog_default_handler(void)
{
    TIMER_CONTROL_2 = TIMER_CONTROL_2;
    watchdog_count++;
}

#define DEFAULT ((interrupt_handler_t)interrupt_default_handler)

interrupt_handler_t vector_table[INTERRUPT_SLOTS] = {
    [0 ... INTERRUPT_SLOT_NMI] = DEFAULT,
    [INTERRUPT_SLOT_WATCHDOG] = watchdog_default_handler,
};

int interrupt_attach(unsigned irq, unsigned priority, interrupt_handler_t handler)
{
    if (irq >= IRQ_COUNT || priority > IRQ_PRIORITY_MASK || handler == 0)
        return -1;
    uint8_t s = interrupt_save();
    vector_table[priority] = handler;
    IRQ_ASSIGN(irq) = (uint8_t)priority;
    interrupt_restore(s);
    return 0;
}

static int slot_in_use(unsigned slot, unsigned except_irq)
{
    for (unsigned k = 0; k < IRQ_COUNT; k++) {
        if (k != except_irq && (IRQ_ASSIGN(k) & IRQ_PRIORITY_MASK) == slot)
            return 1;
    }
    return 0;
}

int interrupt_set_priority(unsigned irq, unsigned priority)
{
    if (irq >= IRQ_COUNT || priority > IRQ_PRIORITY_MASK)
        return -1;
    uint8_t s = interrupt_save();
    unsigned old = IRQ_ASSIGN(irq) & IRQ_PRIORITY_MASK;
    if (old != priority) {
        vector_table[priority] = vector_table[old];
        IRQ_ASSIGN(irq) = (uint8_t)priority;
        if (!slot_in_use(old, irq))
            vector_table[old] = DEFAULT;
    }
    interrupt_restore(s);
    return 0;
}

void interrupt_detach(unsigned irq)
{
    if (irq >= IRQ_COUNT)
        return;
    uint8_t s = interrupt_save();
    unsigned slot = IRQ_ASSIGN(irq) & IRQ_PRIORITY_MASK;
    IRQ_ASSIGN(irq) = (uint8_t)irq;
    if (!slot_in_use(slot, IRQ_COUNT))
        vector_table[slot] = DEFAULT;
    interrupt_restore(s);
}

void interrupt_set_watchdog_handler(interrupt_handler_t handler)
{
    vector_table[INTERRUPT_SLOT_WATCHDOG] = handler ? handler : watchdog_default_handler;
}

void interrupt_enable_globally(void)
{
    __asm__ volatile("" : : : "memory");
    IRQ_CTRL_MASK = 0;
}

void interrupt_disable_globally(void)
{
    /* The mask takes effect after a short pipeline delay on silicon. */
    IRQ_CTRL_MASK = IRQ_CTRL_MASK_ALL;
    FT900_NOP();
    FT900_NOP();
    __asm__ volatile("" : : : "memory");
}

int interrupt_globally_masked(void)
{
    return (IRQ_CTRL_MASK & IRQ_CTRL_MASK_ALL) != 0;
}

int interrupt_enable_nesting(unsigned max_levels)
{
    if (max_levels < 1 || max_levels > 16)
        return -1;
    uint8_t s = interrupt_save();
    IRQ_CTRL_NEST = (uint8_t)(IRQ_CTRL_NEST_EN | ((max_levels - 1) & IRQ_CTRL_NEST_DEPTH_MASK));
    interrupt_restore(s);
    return 0;
}

void interrupt_disable_nesting(void)
{
    uint8_t s = interrupt_save();
    IRQ_CTRL_NEST = 0;
    interrupt_restore(s);
}

unsigned interrupt_depth(void)
{
    return __irq_depth;
}

uint32_t interrupt_spurious_count(void)
{
    return spurious_count;
}

unsigned interrupt_spurious_last(void)
{
    return spurious_last;
}

uint32_t interrupt_watchdog_count(void)
{
    return watchdog_count;
}
