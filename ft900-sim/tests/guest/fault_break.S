/* The GDB breakpoint word 0x00340002 (call 8) stops with SIGTRAP without executing.
 * Expected: the reference stops with signal 5; ours exits with status 128+5 and a "guest fault:" report.
 * ft900-test: signal=5
 */
	.text
	.global main
main:
	ldk.l $r0,'<'
	sta.b 0x10000,$r0
	ldk.l $r0,'\n'
	sta.b 0x10000,$r0
	.long 0x00340002
	ldk.l $r0,'X'    /* never reached */
	sta.b 0x10000,$r0
	ldk.l $r0,0
	return
