/*
 * ft900_intc_regs.h - interrupt controller, base 0x100C0 (AN_324 section 6).
 */
#ifndef FT900_INTC_REGS_H
#define FT900_INTC_REGS_H

#include "ft900_io.h"
#include "ft900_regs.h"

/* INTC_BASE, IRQ00_03_ASSIGNMENT ... IRQ28_31_ASSIGNMENT and IRQ_CONTROL come from the
 * generated ft900_regs.h. */

/* Tables 6.3-6.10 IRQxx-yy Assignment: one byte per IRQ input, bits [4:0] = priority. */
#define IRQ_ASSIGN(irq)         FT900_REG8(INTC_BASE + (irq))
#define IRQ_PRIORITY_MASK       0x1Fu

/* Table 6.11 IRQ Control. */
#define IRQ_CTRL                IRQ_CONTROL
#define IRQ_CTRL_GLOBAL_MASK    IRQ_CONTROL_GLOBAL_MASK
#define IRQ_CTRL_NEST_EN        IRQ_CONTROL_NEST_EN
#define IRQ_CTRL_NEST_DEPTH_MASK IRQ_CONTROL_NEST_DEPTH
/* Byte views of IRQ Control used by firmware. */
#define IRQ_CTRL_NEST           FT900_REG8(IRQ_CONTROL_ADDR)  /* bit 7 enable, [3:0] depth */
#define IRQ_CTRL_MASK_ADDR      (IRQ_CONTROL_ADDR + 3u)
#define IRQ_CTRL_MASK           FT900_REG8(IRQ_CTRL_MASK_ADDR)  /* bit 7 = global mask */
#define IRQ_CTRL_MASK_ALL       0x80u

/* Table 6.1 interrupt inputs. */
#define IRQ_POWER               0
#define IRQ_USB_HOST            1
#define IRQ_USB_DEVICE          2
#define IRQ_ETH                 3
#define IRQ_SD                  4
#define IRQ_CAN0                5
#define IRQ_CAN1                6
#define IRQ_CAMERA              7
#define IRQ_SPIM                8
#define IRQ_SPIS0               9
#define IRQ_SPIS1               10
#define IRQ_I2CM                11
#define IRQ_I2CS                12
#define IRQ_UART0               13
#define IRQ_UART1               14
#define IRQ_I2S                 15
#define IRQ_PWM                 16
#define IRQ_TIMERS              17
#define IRQ_GPIO                18
#define IRQ_RTC                 19
#define IRQ_ADC                 20
#define IRQ_DAC                 21
#define IRQ_SLOWCLOCK           22
#define IRQ_COUNT               32

#endif /* FT900_INTC_REGS_H */
