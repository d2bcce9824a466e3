/*
 * ft900_eth_regs.h - Ethernet MAC, base 0x10220 (AN_324 section 10), and the clause-22
 * registers of the integrated PHY reached through MDIO.
 */
#ifndef FT900_ETH_REGS_H
#define FT900_ETH_REGS_H

#include "ft900_io.h"
#include "ft900_regs.h"

/* ETH_BASE, the registers (ETH_INT_STATUS ... ETH_TR_REQ), their reset values and fields
 * (ETH_RX_CNTL_BAD_CRC, ...) come from the generated ft900_regs.h. */
#define ETH_MAC_ADDR(n)     FT900_REG8(ETH_ADDR_1_ADDR + (n)) /* n = 0..5: octet 1..6 */
#define ETH_MNG_TX          FT900_REG16(ETH_MNG_TX0_ADDR)   /* ETH_MNG_TX0/TX1 */
#define ETH_MNG_RX          FT900_REG16(ETH_MNG_RX0_ADDR)   /* ETH_MNG_RX0/RX1 */

/* ETH_INT_STATUS / ETH_INT_ENABLE (Tables 10.3/10.4). */
#define ETH_INT_MD          0x20u   /* MDIO transaction done, RW1C */
#define ETH_INT_RX_ERR      0x10u   /* RW1C */
#define ETH_INT_FIFO_OV     0x08u   /* RW1C */
#define ETH_INT_TX_EMPTY    0x04u   /* RW1C */
#define ETH_INT_TX_ERR      0x02u   /* RW1C; also resets the TX write pointer */
#define ETH_INT_RX          0x01u   /* RO: at least one packet in the RX FIFO */

#define ETH_RX_CNTL_MEM_SIZE_MASK ETH_RX_CNTL_MEM_SIZE
#define ETH_TX_CNTL_MEM_SIZE_MASK ETH_TX_CNTL_MEM_SIZE
#define ETH_MNG_CNTL_PHY_REG_OF(r) ((uint8_t)((r) << ETH_MNG_CNTL_PHY_REG_SHIFT))

/* TX and RX buffers: 2048 bytes each (512 x 32 bits). */
#define ETH_BUFFER_BYTES        2048u
#define ETH_TX_MAX_DATA_LEN     2032u   /* payload bytes after the 14-byte header */
#define ETH_NUM_PKT_MASK        0x3Fu

/* MII (clause 22) registers of the PHY. */
#define MII_BMCR            0
#define MII_BMSR            1
#define MII_PHYID1          2
#define MII_PHYID2          3
#define MII_ANAR            4
#define MII_ANLPAR          5
#define MII_ANER            6

#define BMCR_RESET          0x8000u
#define BMCR_LOOPBACK       0x4000u
#define BMCR_SPEED_100      0x2000u
#define BMCR_AN_ENABLE      0x1000u
#define BMCR_POWER_DOWN     0x0800u
#define BMCR_ISOLATE        0x0400u
#define BMCR_AN_RESTART     0x0200u
#define BMCR_FULL_DUPLEX    0x0100u

#define BMSR_100_FULL       0x4000u
#define BMSR_100_HALF       0x2000u
#define BMSR_10_FULL        0x1000u
#define BMSR_10_HALF        0x0800u
#define BMSR_AN_COMPLETE    0x0020u
#define BMSR_AN_ABLE        0x0008u
#define BMSR_LINK           0x0004u

#define ANAR_DEFAULT        0x41E1u /* 802.3 selector, 10/100 half/full, bit 14 */
#define ANLPAR_100_FULL     0x0100u
#define ANLPAR_100_HALF     0x0080u
#define ANLPAR_10_FULL      0x0040u

/* PHY address the firmware gives the integrated PHY (ETH_PHY_CFG[4:0] and ETH_MNG_ADDR). */
#define ETH_PHY_ADDRESS     0x17u

#endif /* FT900_ETH_REGS_H */
