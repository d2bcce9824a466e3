/* An FT32B shortcode pair (pattern 9) is illegal on the FT900 -> SIGILL.
 * Expected: the reference stops with signal 4; ours exits with status 128+4 and a "guest fault:" report.
 * ft900-test: signal=4
 */
	.text
	.global main
main:
	ldk.l $r0,'<'
	sta.b 0x10000,$r0
	ldk.l $r0,'\n'
	sta.b 0x10000,$r0
	.long 0x48035002
	ldk.l $r0,'X'    /* never reached */
	sta.b 0x10000,$r0
	ldk.l $r0,0
	return
