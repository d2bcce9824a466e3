/*
 * ft900_sys_regs.h - general system registers (AN_324 section 5).
 *
 * SYS_BASE, the registers (HIPID, EFCFG, CLKCFG, PMCFG, PTSTNSET(R), MSC0CFG, PADCFG(pin),
 * GPIO_CFG(n), GPIO_VALUE0..2, GPIO_INT_ENABLE0..2, GPIO_INT_PENDING0..2, ETH_PHY_CFG,
 * ETH_PHY_ID, rev C's RESET_STATUS), their reset values and fields (CLKCFG_MAC_ENA,
 * MSC0CFG_PERI_SOFTRESET, PADCFG_FUNC_SHIFT, ...) come from the generated ft900_regs.h.
 */
#ifndef FT900_SYS_REGS_H
#define FT900_SYS_REGS_H

#include "ft900_io.h"
#include "ft900_regs.h"

/* HIPID: [31:16] model, [15:0] revision. */
#define HIPID_MODEL_OF(v)       (((uint32_t)(v) & HIPID_CHIP_MODEL) >> HIPID_CHIP_MODEL_SHIFT)
#define HIPID_REVISION_OF(v)    ((uint32_t)(v) & HIPID_CHIP_REV)
#define HIPID_MODEL_FT900       0x0900u

#define EFCFG_100_PIN           EFCFG_PIN_100

#define PADCFG_FUNC_MASK        PADCFG_FUNC
#define PAD_COUNT               PADCFG_COUNT

#define GPIO_CFG_BASE           GPIO_CFG_ADDR
/* GPIO value, interrupt enable, interrupt pending (RW1C), 32 GPIOs per register. */
#define GPIO_VALUE(i)           FT900_REG32(GPIO_VALUE0_ADDR + 4u * (i))
#define GPIO_INT_ENABLE(i)      FT900_REG32(GPIO_INT_ENABLE0_ADDR + 4u * (i))
#define GPIO_INT_PENDING(i)     FT900_REG32(GPIO_INT_PENDING0_ADDR + 4u * (i))

#define ETH_PHY_CFG_PHYAD_MASK  ETH_PHY_CFG_PHYAD

/* Pins used by this firmware (AN_324 tables 5.23, 5.12). */
#define PIN_UART0_TXD           48
#define PIN_UART0_RXD           49
#define PIN_UART1_TXD           52
#define PIN_UART1_RXD           53
#define PAD_FUNC_UART0          3
#define PAD_FUNC_UART1          2

#endif /* FT900_SYS_REGS_H */
