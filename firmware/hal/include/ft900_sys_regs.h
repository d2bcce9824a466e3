/*
 * ft900_sys_regs.h - general system registers, base 0x10000 (AN_324 section 5).
 * Register and field names follow AN_324.
 */
#ifndef FT900_SYS_REGS_H
#define FT900_SYS_REGS_H

#include "ft900_io.h"

#define SYS_BASE            0x10000u

/* Table 5.2 HIPID - chip ID (RO). [31:16] model, [15:0] revision. */
#define HIPID               FT900_REG32(0x10000)
#define HIPID_MODEL(v)      ((uint32_t)(v) >> 16)
#define HIPID_REVISION(v)   ((uint32_t)(v) & 0xFFFFu)
#define HIPID_MODEL_FT900   0x0900u

/* Table 5.4 EFCFG - chip configuration (RO, efuses). */
#define EFCFG               FT900_REG32(0x10004)
#define EFCFG_CAN_ACTIVE    (1u << 31)
#define EFCFG_MAC_ACTIVE    (1u << 30)
#define EFCFG_100_PIN       (1u << 29)

/* Table 5.5 CLKCFG - peripheral clock enables. */
#define CLKCFG              FT900_REG32(0x10008)
#define CLKCFG_EHCI_ENA     (1u << 15)
#define CLKCFG_DEV_ENA      (1u << 14)
#define CLKCFG_MAC_ENA      (1u << 13)
#define CLKCFG_SD_ENA       (1u << 12)
#define CLKCFG_CAN0_ENA     (1u << 11)
#define CLKCFG_CAN1_ENA     (1u << 10)
#define CLKCFG_I2CM_ENA     (1u << 9)
#define CLKCFG_I2CS_ENA     (1u << 8)
#define CLKCFG_SPIM_ENA     (1u << 7)
#define CLKCFG_SPIS0_ENA    (1u << 6)
#define CLKCFG_SPIS1_ENA    (1u << 5)
#define CLKCFG_UART0_ENA    (1u << 4)
#define CLKCFG_UART1_ENA    (1u << 3)
#define CLKCFG_PWM_ENA      (1u << 2)
#define CLKCFG_I2S_ENA      (1u << 1)
#define CLKCFG_CAM_ENA      (1u << 0)

/* Table 5.6 PMCFG - power management. */
#define PMCFG               FT900_REG32(0x1000C)

/* Tables 5.7/5.8 PTSTNSET / PTSTNSETR - test-and-set semaphores. */
#define PTSTNSET            FT900_REG32(0x10010)
#define PTSTNSETR           FT900_REG32(0x10014)

/* Table 5.9 MSC0CFG - miscellaneous configuration. */
#define MSC0CFG             FT900_REG32(0x10018)
#define MSC0CFG_PERI_SOFTRESET  (1u << 31)
#define MSC0CFG_PWM_SOFTRESET   (1u << 30)
#define MSC0CFG_UART0_CLKSEL    (1u << 21)
#define MSC0CFG_UART0_FIFOSEL   (1u << 20)
#define MSC0CFG_UART0_INTSEL    (1u << 19)
#define MSC0CFG_UART1_CLKSEL    (1u << 18)
#define MSC0CFG_UART1_FIFOSEL   (1u << 17)
#define MSC0CFG_UART1_INTSEL    (1u << 16)
#define MSC0CFG_MAC_RESET_PHY   (1u << 8)

/* Tables 5.10-5.27 pin configuration: one byte per pin at 0x1001C + pin. */
#define PADCFG(pin)             FT900_REG8(0x1001Cu + (pin))
#define PADCFG_FUNC_SHIFT       6
#define PADCFG_FUNC_MASK        (3u << 6)
#define PADCFG_DRIVE_SHIFT      4
#define PADCFG_PULL_SHIFT       2
#define PADCFG_SCHMITT          (1u << 1)
#define PADCFG_SLOW             (1u << 0)
#define PAD_COUNT               67

/* Tables 5.28-5.37 GPIO configuration: one nibble per GPIO at 0x10060 + n/2 (byte). */
#define GPIO_CFG_BASE           0x10060u
/* Tables 5.38-5.46 GPIO value, interrupt enable, interrupt pending (RW1C). */
#define GPIO_VALUE(i)           FT900_REG32(0x10084u + 4u * (i))
#define GPIO_INT_ENABLE(i)      FT900_REG32(0x10090u + 4u * (i))
#define GPIO_INT_PENDING(i)     FT900_REG32(0x1009Cu + 4u * (i))

/* Table 5.47 ETH_PHY_CFG - Ethernet PHY miscellaneous configuration. */
#define ETH_PHY_CFG             FT900_REG32(0x100A8)
#define ETH_PHY_CFG_LINK_STATUS (1u << 31)  /* rev C */
#define ETH_PHY_CFG_LOOPBACK    (1u << 10)
#define ETH_PHY_CFG_PWRSV       (1u << 9)
#define ETH_PHY_CFG_PWRDN       (1u << 8)
#define ETH_PHY_CFG_PHYAD_MASK  0x1Fu

/* Table 5.48 ETH_PHY_ID - Ethernet PHY ID. */
#define ETH_PHY_ID              FT900_REG32(0x100AC)

/* Pins used by this firmware (AN_324 tables 5.23, 5.12). */
#define PIN_UART0_TXD           48
#define PIN_UART0_RXD           49
#define PIN_UART1_TXD           52
#define PIN_UART1_RXD           53
#define PAD_FUNC_UART0          3
#define PAD_FUNC_UART1          2

#endif /* FT900_SYS_REGS_H */
