/*
 * sys.c - system block driver. See ft900_sys.h.
 */
#include "ft900_sys.h"
#include "ft900_interrupt.h"

uint32_t sys_chip_id(void)
{
    return HIPID;
}

int sys_is_ft900(void)
{
    return HIPID_MODEL_OF(HIPID) == HIPID_MODEL_FT900;
}

int sys_is_rev_b(void)
{
    uint32_t rev = HIPID_REVISION_OF(HIPID);
    return rev == 0x0000u || rev == 0x0001u;
}

void sys_clock_enable(uint32_t clkcfg_bits)
{
    uint8_t s = interrupt_save();
    CLKCFG |= clkcfg_bits;
    interrupt_restore(s);
}

void sys_clock_disable(uint32_t clkcfg_bits)
{
    uint8_t s = interrupt_save();
    CLKCFG &= ~clkcfg_bits;
    interrupt_restore(s);
}

int sys_pad_function(unsigned pin, unsigned function)
{
    if (pin >= PAD_COUNT || function > 3)
        return -1;
    uint8_t v = PADCFG(pin);
    PADCFG(pin) = (uint8_t)((v & ~PADCFG_FUNC_MASK) | (function << PADCFG_FUNC_SHIFT));
    return 0;
}

void sys_delay_us(uint32_t us)
{
    /* add (1) + cmp (1) + taken jmpc (2) = 4 cycles; 25 iterations per microsecond. */
    uint32_t n = us * 25u;
    if (n == 0)
        return;
    __asm__ volatile("1:\n\t"
                     "add.l  %0, %0, -1\n\t"
                     "cmp.l  %0, 0\n\t"
                     "jmpc   nz, 1b"
                     : "+r"(n)
                     :
                     : "$cc");
}

void sys_enable_ethernet(void)
{
    ETH_PHY_CFG &= ~(ETH_PHY_CFG_PWRDN | ETH_PHY_CFG_PWRSV);
    sys_clock_enable(CLKCFG_MAC_ENA);
    MSC0CFG |= MSC0CFG_MAC_RESET_PHY;
    sys_delay_us(10000);
    MSC0CFG &= ~MSC0CFG_MAC_RESET_PHY;
}

/* ---- stack ------------------------------------------------------------------------------------ */

extern uint32_t __stack_limit[];

static uint32_t ram_offset(const void *p)
{
    return (uint32_t)(uintptr_t)p & 0xFFFFu;
}

uint32_t sys_stack_size(void)
{
    return 0x10000u - ram_offset(__stack_limit);
}

uint32_t sys_stack_high_water(void)
{
    /* The guard word is not paint: start above it. */
    uint32_t a = ram_offset(__stack_limit) + 4u;
    while (a < 0x10000u && *(volatile uint32_t *)(uintptr_t)a == SYS_STACK_PAINT)
        a += 4;
    return 0x10000u - a;
}

int sys_stack_guard_ok(void)
{
    return *(volatile uint32_t *)__stack_limit == SYS_STACK_GUARD;
}
