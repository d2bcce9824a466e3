/* lpm beyond program memory (0x40000) -> SIGSEGV.
 * Expected: the reference stops with signal 11; ours exits with status 128+11 and a "guest fault:" report.
 * ft900-test: signal=11
 */
	.text
	.global main
main:
	ldk.l $r0,'<'
	sta.b 0x10000,$r0
	ldk.l $r0,'\n'
	sta.b 0x10000,$r0
	lpm.l $r1,0x40000
	ldk.l $r0,'X'    /* never reached */
	sta.b 0x10000,$r0
	ldk.l $r0,0
	return
