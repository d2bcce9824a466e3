//! The blocks' registers and the address map. One line per register (see
//! [`registers!`](super::registers)); facts from AN_324 and the SDK's
//! `include/registers/ft900_*_registers.h` as `docs/hardware/*.md` record them.

use super::{registers, Access, Bank, Block, Field, Reg, Reset, Revs, Unit};

/// System registers, 0x10000 (AN_324 §5; `docs/hardware/system.md`). 8, 16 and 32-bit access.
pub mod sys {
    use super::*;
    registers! {
        HIPID "HIPID" @ 0x00 4 (B 0x0900_0001 C 0x0900_0002), ReadOnly [CHIP_REV 15:0, CHIP_MODEL 31:16];
        EFCFG "EFCFG" @ 0x04 4 0xEFFF_FFFF, ReadOnly [PIN_100 29, MAC_ACTIVE 30, CAN_ACTIVE 31];
        CLKCFG "CLKCFG" @ 0x08 4 0, ReadWrite [CAM_ENA 0, I2S_ENA 1, PWM_ENA 2, UART1_ENA 3,
            UART0_ENA 4, SPIS1_ENA 5, SPIS0_ENA 6, SPIM_ENA 7, I2CS_ENA 8, I2CM_ENA 9,
            CAN1_ENA 10, CAN0_ENA 11, SD_ENA 12, MAC_ENA 13, DEV_ENA 14, EHCI_ENA 15,
            CPU_DIV 19:16 @ RevC];
        PMCFG "PMCFG" @ 0x0C 4 0, ReadWrite [PM_INT_PENDING 25:16 WriteOneToClear];
        PTSTNSET "PTSTNSET" @ 0x10 4 0, TestAndSet [LOCKED 0];
        PTSTNSETR "PTSTNSETR" @ 0x14 4 0, TestAndSet [LOCKED 0];
        MSC0CFG "MSC0CFG" @ 0x18 4 0, ReadWrite [MAC_RESET_PHY 8, UART1_INTSEL 16,
            UART1_FIFOSEL 17, UART1_CLKSEL 18, UART0_INTSEL 19, UART0_FIFOSEL 20,
            UART0_CLKSEL 21, I2C_SWOP 29, PWM_SOFTRESET 30 WriteOnly, PERI_SOFTRESET 31 WriteOnly];
        /// Pad configuration, one byte per pin.
        PADCFG "PADCFG" @ 0x1C 1 (varies "0x08 for pins 0..2, 0x04 for the others") x 67,
            ReadWrite [SLOW 0, SCHMITT 1, PULL 3:2, DRIVE 5:4, FUNC 7:6];
        /// GPIO configuration, one nibble per GPIO.
        GPIO_CFG "GPIO_CFG" @ 0x60 1 0 x 36, ReadWrite [];
        GPIO_VALUE0 "GPIO_VALUE0" @ 0x84 4 0, ReadWrite [];
        GPIO_VALUE1 "GPIO_VALUE1" @ 0x88 4 0, ReadWrite [];
        GPIO_VALUE2 "GPIO_VALUE2" @ 0x8C 4 0, ReadWrite [];
        GPIO_INT_ENABLE0 "GPIO_INT_ENABLE0" @ 0x90 4 0, ReadWrite [];
        GPIO_INT_ENABLE1 "GPIO_INT_ENABLE1" @ 0x94 4 0, ReadWrite [];
        GPIO_INT_ENABLE2 "GPIO_INT_ENABLE2" @ 0x98 4 0, ReadWrite [];
        GPIO_INT_PENDING0 "GPIO_INT_PENDING0" @ 0x9C 4 0, WriteOneToClear [];
        GPIO_INT_PENDING1 "GPIO_INT_PENDING1" @ 0xA0 4 0, WriteOneToClear [];
        GPIO_INT_PENDING2 "GPIO_INT_PENDING2" @ 0xA4 4 0, WriteOneToClear [];
        /// Rev C: bits 31:24 are the PHY's status (link, LEDs; dark LEDs read 1).
        ETH_PHY_CFG "ETH_PHY_CFG" @ 0xA8 4 (B 0x0007_0300 C 0x3F07_0300), ReadWrite [PHYAD 4:0,
            PWRDN 8, PWRSV 9, LOOPBACK 10, LINK_STATUS 31 ReadOnly];
        ETH_PHY_ID "ETH_PHY_ID" @ 0xAC 4 0, ReadWrite [];
        /// Rev C: global reset status and soft reset.
        RESET_STATUS "RESET_STATUS" @ 0xBC 4 0x01, ReadWrite if RevC [HW_RESET 0, SOFT_RESET 1];
    }
}

/// Interrupt controller, 0x100C0 (AN_324 §6; `docs/hardware/interrupts.md`).
pub mod intc {
    use super::*;
    registers! {
        IRQ00_03 "IRQ00-03 Assignment" @ 0x00 4 0x0302_0100, ReadWrite [P0 4:0, P1 12:8, P2 20:16, P3 28:24];
        IRQ04_07 "IRQ04-07 Assignment" @ 0x04 4 0x0706_0504, ReadWrite [P0 4:0, P1 12:8, P2 20:16, P3 28:24];
        IRQ08_11 "IRQ08-11 Assignment" @ 0x08 4 0x0B0A_0908, ReadWrite [P0 4:0, P1 12:8, P2 20:16, P3 28:24];
        IRQ12_15 "IRQ12-15 Assignment" @ 0x0C 4 0x0F0E_0D0C, ReadWrite [P0 4:0, P1 12:8, P2 20:16, P3 28:24];
        IRQ16_19 "IRQ16-19 Assignment" @ 0x10 4 0x1312_1110, ReadWrite [P0 4:0, P1 12:8, P2 20:16, P3 28:24];
        IRQ20_23 "IRQ20-23 Assignment" @ 0x14 4 0x1716_1514, ReadWrite [P0 4:0, P1 12:8, P2 20:16, P3 28:24];
        IRQ24_27 "IRQ24-27 Assignment" @ 0x18 4 0x1B1A_1918, ReadWrite [P0 4:0, P1 12:8, P2 20:16, P3 28:24];
        IRQ28_31 "IRQ28-31 Assignment" @ 0x1C 4 0x1F1E_1D1C, ReadWrite [P0 4:0, P1 12:8, P2 20:16, P3 28:24];
        CONTROL "IRQ Control" @ 0x20 4 0x8000_0000, ReadWrite [NEST_DEPTH 3:0, NEST_EN 7, GLOBAL_MASK 31];
    }
}

/// Ethernet MAC, 0x10220 (AN_324 §10; `docs/hardware/ethernet.md`).
pub mod eth {
    use super::*;
    registers! {
        INT_STATUS "ETH_INT_STATUS" @ 0x00 1 0, WriteOneToClear [RX_INT 0 ReadOnly, TX_ERR 1, TX_EMPTY 2,
            FIFO_OV 3, RX_ERR 4, MD_INT 5];
        INT_ENABLE "ETH_INT_ENABLE" @ 0x01 1 0, ReadWrite [RX_INT 0, TX_ERR 1, TX_EMPTY 2,
            FIFO_OV 3, RX_ERR 4, MD_INT 5];
        RX_CNTL "ETH_RX_CNTL" @ 0x02 1 0x08, ReadWrite [RX_ENABLE 0, ACC_MULTI 1, PRMS 2,
            BAD_CRC 3, RESET_FIFO 4 WriteOnly, MEM_SIZE 7:6 ReadOnly];
        TX_CNTL "ETH_TX_CNTL" @ 0x03 1 0, ReadWrite [TX_ENABLE 0, PAD_ENABLE 1, CRC_ENABLE 2,
            DUPLEX 4, MEM_SIZE 7:6 ReadOnly];
        /// 32-bit accesses only.
        DATA "ETH_DATA" @ 0x04 4 0, Port [];
        ADDR_1 "ETH_ADDR_1" @ 0x08 1 0, ReadWrite [];
        ADDR_2 "ETH_ADDR_2" @ 0x09 1 0, ReadWrite [];
        ADDR_3 "ETH_ADDR_3" @ 0x0A 1 0, ReadWrite [];
        ADDR_4 "ETH_ADDR_4" @ 0x0B 1 0, ReadWrite [];
        ADDR_5 "ETH_ADDR_5" @ 0x0C 1 0, ReadWrite [];
        ADDR_6 "ETH_ADDR_6" @ 0x0D 1 0, ReadWrite [];
        THRESHOLD "ETH_THRESHOLD" @ 0x0E 1 0, ReadWrite [];
        MNG_CNTL "ETH_MNG_CNTL" @ 0x0F 1 0, ReadWrite [START 0, WRITE 1, PHY_REG 7:3];
        MNG_DIV "ETH_MNG_DIV" @ 0x10 1 0x80, ReadWrite [];
        MNG_ADDR "ETH_MNG_ADDR" @ 0x11 1 0, ReadWrite [];
        MNG_TX0 "ETH_MNG_TX0" @ 0x12 1 0, ReadWrite [];
        MNG_TX1 "ETH_MNG_TX1" @ 0x13 1 0, ReadWrite [];
        MNG_RX0 "ETH_MNG_RX0" @ 0x14 1 0, ReadWrite [];
        MNG_RX1 "ETH_MNG_RX1" @ 0x15 1 0, ReadWrite [];
        NUM_PKT "ETH_NUM_PKT" @ 0x16 1 0, ReadOnly [COUNT 5:0];
        TR_REQ "ETH_TR_REQ" @ 0x17 1 0, ReadWrite [NEW_TX 0];
    }
}

/// Rev B's counter RTC, 0x10280 (AN_324 §20; `docs/hardware/rtc.md`). 32-bit registers.
pub mod rtc {
    use super::*;
    registers! {
        CCVR "RTC_CCVR" @ 0x00 4 0, ReadOnly [];
        CMR "RTC_CMR" @ 0x04 4 0, ReadWrite [];
        CLR "RTC_CLR" @ 0x08 4 0, ReadWrite [];
        CCR "RTC_CCR" @ 0x0C 4 0, ReadWrite [IEN 0, MASK 1, EN 2, WEN 3];
        STAT "RTC_STAT" @ 0x10 4 0, ReadOnly [];
        RSTAT "RTC_RSTAT" @ 0x14 4 0, ReadOnly [];
        EOI "RTC_EOI" @ 0x18 4 0, ReadClears [];
        COMP_VERSION "RTC_COMP_VERSION" @ 0x1C 4 0x3230_332A, ReadOnly [];
    }
}

/// Rev C's calendar RTC, 0x10900 (SDK `ft900_rtc_registers.h`; `docs/hardware/rtc.md`).
pub mod rtc_calendar {
    use super::*;
    registers! {
        TIME "RTC_TIME" @ 0x00 4 (varies "the calendar at power-on"), ReadWrite [SEC 6:0, MIN 14:8, HOUR 21:16, MODE_12H 22];
        DATE "RTC_DATE" @ 0x04 4 (varies "the calendar at power-on"), ReadWrite [WEEKDAY 2:0, DAY 13:8, MONTH 20:16, CENTURY 23, YEAR 31:24];
        AALARM1 "RTC_AALARM1" @ 0x08 4 0, ReadWrite [];
        AALARM2 "RTC_AALARM2" @ 0x0C 4 0, ReadWrite [];
        CTRL "RTC_CTRL" @ 0x10 4 0x001, ReadWrite [RTCEN 0, INTEN 1, A1IE 2, A2IE 3, ARFEN 7, MRFEN 8, WRST 9];
        STA "RTC_STA" @ 0x14 4 0, WriteOneToClear [A1INT 2, A2INT 3];
        TRIM "RTC_TRIM" @ 0x18 4 0x03E8_0000, ReadWrite [];
        SLEEP_TIME "RTC_SLEEP_TIME" @ 0x1C 4 0, ReadOnly [];
        SLEEP_DATE "RTC_SLEEP_DATE" @ 0x20 4 0, ReadOnly [];
        COMP_PER "RTC_COMP_PER" @ 0x24 4 0, ReadWrite [];
        MISC "RTC_MISC" @ 0x28 4 0, ReadWrite [];
    }
}

/// UART0/UART1, 16C550 with 650/750/950 extensions (AN_324 §13; `docs/hardware/uart.md`).
/// Byte registers; most offsets reach several registers depending on LCR and ACR ([`Bank`]).
pub mod uart {
    use super::*;
    registers! {
        RBR "RBR" @ 0 1 0, Port in Read [];
        THR "THR" @ 0 1 0, Port in Write [];
        DLL "DLL" @ 0 1 0, ReadWrite in Dlab [];
        IER "IER" @ 1 1 0, ReadWrite [RX 0, TX 1, LINE 2, MODEM 3];
        DLM "DLM" @ 1 1 0, ReadWrite in Dlab [];
        ASR "ASR" @ 1 1 0x80, ReadOnly in Status [TX_IDLE 7, FIFO_SIZE 6, FIFO_SEL 5, DTR 3, RTS 2];
        ISR "ISR" @ 2 1 0x01, ReadOnly in Read [NONE 0, ID 5:1, FIFO 7:6];
        FCR "FCR" @ 2 1 0, WriteOnly in Write [ENABLE 0, RX_RESET 1, TX_RESET 2, FIFO_128 5, RX_TRIG 7:6];
        EFR "EFR" @ 2 1 0, ReadWrite in Enhanced [ENHANCED 4];
        LCR "LCR" @ 3 1 0, ReadWrite [BITS 1:0, STOP2 2, PARITY 3, EVEN 4, BREAK 6, DLAB 7];
        RFL "RFL" @ 3 1 0, ReadOnly in Status [];
        MCR "MCR" @ 4 1 0, ReadWrite [DTR 0, RTS 1, LOOPBACK 4, PRESCALER 7];
        TFL "TFL" @ 4 1 0, ReadOnly in Status [];
        XON1 "XON1" @ 4 1 0, ReadWrite in Enhanced [];
        LSR "LSR" @ 5 1 0x60, ReadOnly in Read [DR 0, OE 1, PE 2, FE 3, BI 4, THRE 5, TEMT 6, RX_ERROR 7];
        ICR "ICR" @ 5 1 0, Port in Write [];
        XON2 "XON2" @ 5 1 0, ReadWrite in Enhanced [];
        MSR "MSR" @ 6 1 0xB0, ReadOnly [DCTS 0, DDSR 1, TERI 2, DDCD 3, CTS 4, DSR 5, RI 6, DCD 7];
        XOFF1 "XOFF1" @ 6 1 0, ReadWrite in Enhanced [];
        SPR "SPR" @ 7 1 0, ReadWrite [];
        XOFF2 "XOFF2" @ 7 1 0, ReadWrite in Enhanced [];
        ACR "ACR" @ 0x00 1 0, ReadWrite in Indexed [RX_DISABLE 0, TX_DISABLE 1, TRIGGERS_950 5, ICR_READ 6, STATUS 7];
        CPR "CPR" @ 0x01 1 0, ReadWrite in Indexed [];
        TCR "TCR" @ 0x02 1 0, ReadWrite in Indexed [];
        CKS "CKS" @ 0x03 1 0, ReadWrite in Indexed [];
        TTL "TTL" @ 0x04 1 0, ReadWrite in Indexed [];
        RTL "RTL" @ 0x05 1 0, ReadWrite in Indexed [];
        FCL "FCL" @ 0x06 1 0, ReadWrite in Indexed [];
        FCH "FCH" @ 0x07 1 0, ReadWrite in Indexed [];
        ID1 "ID1" @ 0x08 1 0, ReadOnly in Indexed [];
        ID2 "ID2" @ 0x09 1 0, ReadOnly in Indexed [];
        ID3 "ID3" @ 0x0A 1 0, ReadOnly in Indexed [];
        REV "REV" @ 0x0B 1 0, ReadOnly in Indexed [];
        CSR "CSR" @ 0x0C 1 0, WriteOnly in Indexed [];
        NMR "NMR" @ 0x0D 1 0, ReadWrite in Indexed [];
        MDM "MDM" @ 0x0E 1 0, ReadWrite in Indexed [];
        RFC "RFC" @ 0x0F 1 0, ReadOnly in Indexed [];
        GDS "GDS" @ 0x10 1 0, ReadOnly in Indexed [];
        PIDX "PIDX" @ 0x12 1 0, ReadOnly in Indexed [];
        CKA "CKA" @ 0x13 1 0, ReadWrite in Indexed [];
    }
}

/// Timers A–D and the watchdog, 0x10340 (AN_324 §14; `docs/hardware/timers.md`). Byte registers.
pub mod timers {
    use super::*;
    registers! {
        /// block_en (bit 1), soft_reset (bit 0, self-clearing).
        CONTROL_0 "TIMER_CONTROL_0" @ 0x0 1 0, ReadWrite [SOFT_RESET 0 WriteOnly, BLOCK_EN 1];
        /// stop_t (bit 4+t), start_t (bit t); all self-clearing.
        CONTROL_1 "TIMER_CONTROL_1" @ 0x1 1 0, WriteOnly [START 3:0, STOP 7:4];
        /// prescaler_en (bits 7:4), wdg_int_ien (3), wdg_int (2, RW1C), clear_wdg (1), start_wdg (0).
        CONTROL_2 "TIMER_CONTROL_2" @ 0x2 1 0, ReadWrite [START_WDG 0, CLEAR_WDG 1 WriteOnly,
            WDG_INT 2 WriteOneToClear,
            WDG_INT_IEN 3, PRESC_EN 7:4];
        /// direction (bits 7:4, 1 = up), mode (bits 3:0, 1 = one-shot).
        CONTROL_3 "TIMER_CONTROL_3" @ 0x3 1 0, ReadWrite [ONE_SHOT 3:0, DIR_UP 7:4];
        /// presc_clear (bit 4 on rev B, bits 7:4 per timer on rev C), clear_t (bit t); self-clearing.
        CONTROL_4 "TIMER_CONTROL_4" @ 0x4 1 0, WriteOnly [CLEAR 3:0, PRESC_CLEAR 4 @ RevB,
            PRESC_CLEAR_T 7:4 @ RevC];
        /// enable_t (bit 2t+1), pending_t (bit 2t, RW1C).
        INT "TIMER_INT" @ 0x5 1 0, ReadWrite [];
        /// read_sel (bits 3:2), write_sel (bits 1:0).
        SELECT "TIMER_SELECT" @ 0x6 1 0, ReadWrite [WRITE_SEL 1:0, READ_SEL 3:2];
        /// Watchdog exponent N (bits 4:0): timeout 2^N cycles.
        WDG "TIMER_WDG" @ 0x7 1 0, ReadWrite [EXP 4:0];
        /// Start value of the timer selected by write_sel, bits 7:0.
        WRITE_LS "TIMER_WRITE_LS" @ 0x8 1 0, ReadWrite [];
        /// Start value, bits 15:8.
        WRITE_MS "TIMER_WRITE_MS" @ 0x9 1 0, ReadWrite [];
        /// Prescaler value, bits 7:0 (rev C: of the timer selected by write_sel).
        PRESC_LS "TIMER_PRESC_LS" @ 0xA 1 0, ReadWrite [];
        /// Prescaler value, bits 15:8.
        PRESC_MS "TIMER_PRESC_MS" @ 0xB 1 0, ReadWrite [];
        /// Current value of the timer selected by read_sel, bits 7:0 (the read latches bits 15:8).
        READ_LS "TIMER_READ_LS" @ 0xC 1 0, ReadLatches [];
        /// Current value, bits 15:8.
        READ_MS "TIMER_READ_MS" @ 0xD 1 0, ReadLatches [];
        /// Rev C: bit 0 = the last reset was the watchdog's second roll-over; cleared by a read.
        WDG_STATUS "TIMER_WDG_STATUS" @ 0xF 1 0, ReadClears if RevC [WDG_RESET 0];
    }
}

/// I2C master, 0x10300 (SDK `ft900_i2c_registers.h`; `docs/hardware/i2c-flash.md`).
pub mod i2cm {
    use super::*;
    registers! {
        SLV_ADDR "I2CM_SLV_ADDR" @ 0 1 0, ReadWrite [READ 0, TARGET 7:1];
        /// Control (write) / status (read).
        CNTL_STATUS "I2CM_CNTL_STATUS" @ 1 1 0x20, ReadOnly [];
        DATA "I2CM_DATA" @ 2 1 0, ReadWrite [];
        TIME_PERIOD "I2CM_TIME_PERIOD" @ 3 1 0, ReadWrite [];
        FIFO_LEN "I2CM_FIFO_LEN" @ 4 1 0, Unmodelled [];
        FIFO_INT_ENABLE "I2CM_FIFO_INT_ENABLE" @ 5 1 0, ReadWrite [];
        FIFO_INT_PEND "I2CM_FIFO_INT_PEND" @ 6 1 0, WriteOneToClear [];
        FIFO_DATA "I2CM_FIFO_DATA" @ 7 1 0, Unmodelled [];
        TRIG "I2CM_TRIG" @ 8 1 0, Unmodelled [];
    }
}

/// Flash controller, 0x10800 (AN_324 §23; `docs/hardware/i2c-flash.md`). Byte registers.
pub mod flash {
    use super::*;
    registers! {
        RSADDR0 "RSADDR0" @ 0x00 1 0, ReadWrite [];
        RSADDR1 "RSADDR1" @ 0x01 1 0, ReadWrite [];
        RSADDR2 "RSADDR2" @ 0x02 1 0, ReadWrite [];
        FSADDR0 "FSADDR0" @ 0x03 1 0, ReadWrite [];
        FSADDR1 "FSADDR1" @ 0x04 1 0, ReadWrite [];
        FSADDR2 "FSADDR2" @ 0x05 1 0, ReadWrite [];
        BLENGTH0 "BLENGTH0" @ 0x06 1 0, ReadWrite [];
        BLENGTH1 "BLENGTH1" @ 0x07 1 0, ReadWrite [];
        BLENGTH2 "BLENGTH2" @ 0x08 1 0, ReadWrite [];
        COMMAND "COMMAND" @ 0x09 1 0, WriteOnly [];
        SEMAPHORE "SEMAPHORE" @ 0x0B 1 0, TestAndSet [];
        CONFIG "CONFIG" @ 0x0C 1 0, ReadWrite [SPI_CLOCK 1:0];
        STATUS "STATUS" @ 0x0D 1 0, ReadOnly [WR_IN_PROGRESS 0, CONTROL_BUSY 6];
        CRCL "CRCL" @ 0x0E 1 0, Unmodelled [];
        CRCH "CRCH" @ 0x0F 1 0, Unmodelled [];
        CHIPID0 "CHIPID0" @ 0x7C 1 0, Unmodelled [];
        CHIPID1 "CHIPID1" @ 0x7D 1 0, Unmodelled [];
        CHIPID2 "CHIPID2" @ 0x7E 1 0, Unmodelled [];
        CHIPID3 "CHIPID3" @ 0x7F 1 0, Unmodelled [];
        DRWDATA "DRWDATA" @ 0x80 1 0, Unmodelled [];
    }
}

/// Start of the PM write port (its unlock key register).
pub const PM_PORT_BASE: u32 = crate::profile::ft900::pm_port::UNLOCK;
/// The simulator's exit port.
pub const EXIT_PORT: u32 = 0x1_FFFC;

const fn modelled(
    name: &'static str,
    base: u32,
    size: u32,
    revs: Revs,
    unit: Unit,
    regs: &'static [Reg],
    c_base: &'static str,
) -> Block {
    Block {
        name,
        base,
        size,
        revs,
        unit,
        regs,
        c_base,
        c_rename: ("", ""),
    }
}

const fn absent(name: &'static str, base: u32, size: u32, revs: Revs) -> Block {
    Block {
        name,
        base,
        size,
        revs,
        unit: Unit::NotModelled,
        regs: &[],
        c_base: "",
        c_rename: ("", ""),
    }
}

/// The I/O address map (`docs/hardware/memory-map.md` §2): the first entry that contains an
/// address on a revision is its block. One place for every base address.
pub const MAP: &[Block] = &[
    // ADC/DAC registers sit inside the system block's range (the SDK's ADCDAC at 0x100B0,
    // before RESET_STATUS at 0x100BC).
    absent("adc-dac", 0x1_00B0, 0xC, Revs::All),
    modelled(
        "rtc",
        0x1_0280,
        0x20,
        Revs::RevB,
        Unit::Rtc,
        rtc::REGS,
        "RTC_BASE",
    ),
    absent("rtc-legacy (rev B only)", 0x1_0280, 0x20, Revs::RevC),
    Block {
        c_rename: ("RTC_", "RTCC_"),
        ..modelled(
            "rtc-calendar",
            0x1_0900,
            0x2C,
            Revs::RevC,
            Unit::RtcCalendar,
            rtc_calendar::REGS,
            "RTCC_BASE",
        )
    },
    absent("rtc-calendar (rev C only)", 0x1_0900, 0x2C, Revs::RevB),
    modelled(
        "sys",
        0x1_0000,
        0xC0,
        Revs::All,
        Unit::Sys,
        sys::REGS,
        "SYS_BASE",
    ),
    modelled(
        "intc",
        0x1_00C0,
        0x40,
        Revs::All,
        Unit::Intc,
        intc::REGS,
        "INTC_BASE",
    ),
    absent("usb-host", 0x1_0100, 0x80, Revs::All),
    absent("usb-device", 0x1_0180, 0xA0, Revs::All),
    modelled(
        "eth",
        0x1_0220,
        0x20,
        Revs::All,
        Unit::Eth,
        eth::REGS,
        "ETH_BASE",
    ),
    absent("can0", 0x1_0240, 0x20, Revs::All),
    absent("can1", 0x1_0260, 0x20, Revs::All),
    absent("spi-master", 0x1_02A0, 0x20, Revs::All),
    absent("spi-slave0", 0x1_02C0, 0x20, Revs::All),
    absent("spi-slave1", 0x1_02E0, 0x20, Revs::All),
    modelled(
        "i2cm",
        0x1_0300,
        0x10,
        Revs::All,
        Unit::I2cm,
        i2cm::REGS,
        "I2CM_BASE",
    ),
    absent("i2c-slave", 0x1_0310, 0x10, Revs::All),
    Block {
        c_rename: ("", "UART_"),
        ..modelled(
            "uart0",
            0x1_0320,
            0x10,
            Revs::All,
            Unit::Uart(0),
            uart::REGS,
            "UART0_BASE",
        )
    },
    Block {
        c_rename: ("", "UART_"),
        ..modelled(
            "uart1",
            0x1_0330,
            0x10,
            Revs::All,
            Unit::Uart(1),
            uart::REGS,
            "UART1_BASE",
        )
    },
    modelled(
        "timers",
        0x1_0340,
        0x10,
        Revs::All,
        Unit::Timers,
        timers::REGS,
        "TIMER_BASE",
    ),
    absent("i2s", 0x1_0350, 0x10, Revs::All),
    absent("camera", 0x1_0360, 0x10, Revs::All),
    absent("pwm", 0x1_03C0, 0x40, Revs::All),
    absent("sd-host", 0x1_0400, 0x400, Revs::All),
    Block {
        c_rename: ("", "FLASH_"),
        ..modelled(
            "flash",
            0x1_0800,
            0xC0,
            Revs::All,
            Unit::Flash,
            flash::REGS,
            "FLASH_BASE",
        )
    },
    absent("usb-host-ram", 0x1_1000, 0x2000, Revs::All),
    modelled(
        "pm-write-port",
        PM_PORT_BASE,
        0xC,
        Revs::All,
        Unit::PmPort,
        &[],
        "",
    ),
    modelled("exit", EXIT_PORT, 4, Revs::All, Unit::Exit, &[], ""),
];
