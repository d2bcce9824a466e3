/*
 * phy_link - the integrated PHY through MDIO: hardware reset by MSC0CFG bit 8 (clears itself),
 * BMCR software reset (bit 15 clears itself), reset values, auto-negotiation completing with
 * the link up (BMSR), the partner's abilities, the identifier registers (ETH_PHY_ID), no
 * answer at another MDIO address, and the link following BMCR power-down.
 */
#include "ft900_eth.h"
#include "ft900_interrupt.h"
#include "ft900_sys.h"
#include "ft900_timer.h"
#include "testlib.h"

#define PHY_ID_VALUE 0x0044A5C1ul

/* Waits up to `ms` for BMSR & bits == bits; returns the milliseconds waited or -1. */
static int wait_bmsr(uint16_t bits, uint32_t ms)
{
    uint32_t t0 = millis();
    do {
        int v = eth_mdio_read(MII_BMSR);
        if (v >= 0 && (v & bits) == bits)
            return (int)(millis() - t0);
    } while (millis() - t0 < ms);
    return -1;
}

int main(void)
{
    test_begin("phy_link");
    timer_tick_init();
    interrupt_enable_globally();

    /* Power and clock the block. */
    sys_enable_ethernet();
    CHECK((ETH_PHY_CFG & (ETH_PHY_CFG_PWRDN | ETH_PHY_CFG_PWRSV)) == 0,
          "PHY out of power-down (ETH_PHY_CFG %08lx)", ETH_PHY_CFG);
    CHECK((CLKCFG & CLKCFG_MAC_ENA) != 0, "MAC clock on");

    /* Hardware reset of the PHY: MSC0CFG bit 8 reads 1 during the reset, then 0. */
    MSC0CFG |= MSC0CFG_MAC_RESET_PHY;
    int in_reset = (MSC0CFG & MSC0CFG_MAC_RESET_PHY) != 0;
    unsigned polls = 0;
    while ((MSC0CFG & MSC0CFG_MAC_RESET_PHY) && polls < 100000u) {
        sys_delay_us(1);
        polls++;
    }
    CHECK(in_reset && !(MSC0CFG & MSC0CFG_MAC_RESET_PHY),
          "MSC0CFG.MAC_RESET_PHY set, then cleared by hardware after ~%u us", polls);

    ETH_PHY_CFG = (ETH_PHY_CFG & ~ETH_PHY_CFG_PHYAD_MASK) | ETH_PHY_ADDRESS;
    ETH_MNG_DIV = 19;
    CHECK((ETH_PHY_CFG & ETH_PHY_CFG_PHYAD_MASK) == ETH_PHY_ADDRESS, "PHY address %02x",
          ETH_PHY_ADDRESS);

    /* Nobody answers at another address: MDIO reads all ones. */
    int other = eth_mdio_read_at(0x01, MII_BMSR);
    CHECK(other == 0xFFFF, "no PHY at MDIO address 1 (reads %04x)", other);

    /* Identifier registers come from ETH_PHY_ID. */
    int id1 = eth_mdio_read(MII_PHYID1), id2 = eth_mdio_read(MII_PHYID2);
    tprintf("PHY ID after reset: %04x %04x (ETH_PHY_ID %08lx)\n", id1, id2, ETH_PHY_ID);
    ETH_PHY_ID = PHY_ID_VALUE;
    id1 = eth_mdio_read(MII_PHYID1);
    id2 = eth_mdio_read(MII_PHYID2);
    CHECK(id1 == (int)(PHY_ID_VALUE >> 16) && id2 == (int)(PHY_ID_VALUE & 0xFFFFu),
          "PHYID1/2 = %04x %04x from ETH_PHY_ID %08lx", id1, id2, PHY_ID_VALUE);

    /* Software reset: BMCR bit 15 clears itself; reset values. */
    /* (Values are read first and printed afterwards: printing takes milliseconds.) */
    int wr = eth_mdio_write(MII_BMCR, BMCR_RESET);
    int bmcr = -1;
    for (unsigned i = 0; i < 100; i++) {
        bmcr = eth_mdio_read(MII_BMCR);
        if (bmcr >= 0 && !(bmcr & BMCR_RESET))
            break;
        sys_delay_us(100);
    }
    int bmsr = eth_mdio_read(MII_BMSR);
    int anar = eth_mdio_read(MII_ANAR);
    CHECK(wr == 0, "MDIO write BMCR = reset");
    CHECK(bmcr >= 0 && !(bmcr & BMCR_RESET), "BMCR reset bit cleared itself (BMCR %04x)", bmcr);
    CHECK(bmcr == (BMCR_SPEED_100 | BMCR_AN_ENABLE | BMCR_FULL_DUPLEX),
          "BMCR after reset %04x (100 Mbit/s, auto-negotiation, full duplex)", bmcr);
    CHECK(anar == 0x01E1, "ANAR after reset %04x", anar);
    tprintf("BMSR right after the reset: %04x\n", bmsr);
    CHECK(bmsr >= 0 && !(bmsr & BMSR_AN_COMPLETE) && !(bmsr & BMSR_LINK),
          "negotiation not complete and link down right after the reset");
    CHECK((bmsr & (BMSR_100_FULL | BMSR_100_HALF | BMSR_10_FULL | BMSR_10_HALF | BMSR_AN_ABLE)) ==
              (BMSR_100_FULL | BMSR_100_HALF | BMSR_10_FULL | BMSR_10_HALF | BMSR_AN_ABLE),
          "BMSR abilities: 10/100 half/full, auto-negotiation");

    /* Advertise and restart negotiation; the restart bit clears itself. */
    eth_mdio_write(MII_ANAR, ANAR_DEFAULT);
    anar = eth_mdio_read(MII_ANAR);
    eth_mdio_write(MII_BMCR, (uint16_t)(bmcr | BMCR_AN_ENABLE | BMCR_AN_RESTART));
    bmcr = eth_mdio_read(MII_BMCR);
    int bmsr_restart = eth_mdio_read(MII_BMSR);
    int ms = wait_bmsr(BMSR_AN_COMPLETE | BMSR_LINK, 3000);
    CHECK(anar == ANAR_DEFAULT, "ANAR = %04x", anar);
    CHECK(!(bmcr & BMCR_AN_RESTART), "BMCR restart bit cleared itself (%04x)", bmcr);
    CHECK(bmsr_restart >= 0 && !(bmsr_restart & (BMSR_AN_COMPLETE | BMSR_LINK)),
          "negotiating again after the restart (BMSR %04x)", bmsr_restart);

    bmsr = eth_mdio_read(MII_BMSR);
    tprintf("BMSR %04x after %d ms\n", bmsr, ms);
    CHECK(ms >= 0, "auto-negotiation complete and link up (%d ms)", ms);
    CHECK(eth_link_up(), "eth_link_up()");
    int lpa = eth_mdio_read(MII_ANLPAR);
    CHECK(lpa >= 0 && (lpa & ANLPAR_100_FULL), "partner abilities ANLPAR %04x", lpa);
    struct eth_link link;
    eth_link_get(&link);
    CHECK(link.up && link.speed_100 && link.full_duplex, "link mode %s Mbit/s %s duplex",
          link.speed_100 ? "100" : "10", link.full_duplex ? "full" : "half");

    /* Power down: link lost. Power up: negotiation again, link back. */
    eth_mdio_write(MII_BMCR, (uint16_t)(eth_mdio_read(MII_BMCR) | BMCR_POWER_DOWN));
    CHECK(!eth_link_up(), "link down while the PHY is powered down");
    eth_mdio_write(MII_BMCR, (uint16_t)(eth_mdio_read(MII_BMCR) & ~BMCR_POWER_DOWN));
    ms = wait_bmsr(BMSR_AN_COMPLETE | BMSR_LINK, 3000);
    CHECK(ms >= 0, "link up again %d ms after power-up", ms);
    CHECK(interrupt_globally_masked() == 0, "interrupts still enabled");

    CHECK(interrupt_spurious_count() == 0, "no spurious interrupts (%lu)",
          interrupt_spurious_count());
    return test_end();
}
