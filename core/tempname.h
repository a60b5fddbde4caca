/* tether's own temporary names: the one place their grammar is written down, for C
 * (which makes the first) and for stdlib/tether/tempname.lua (which makes the others
 * and parses them all; tests/lua/test_tempname.lua checks that every name C makes
 * parses there as what it is).
 *
 * Every name tether puts beside a user's files for a moment starts with ".tether-":
 *
 *   .tether-PID-N.tmp        temp       a link, hard link or copy made under a free name,
 *                                       then renamed over its file (core/link.c,
 *                                       core/dedupe.c)
 *   .tether-ROLE-HEX-NAME    migration  a migration's own name beside NAME: ROLE "tmp"
 *                                       (the copy beside DEST), "backup" (the original
 *                                       set aside beside SRC, or the undo's beside DEST),
 *                                       "undo" (the undo's copy beside SRC) or "probe" (a
 *                                       link tried beside SRC where the filesystem cannot
 *                                       tell whether one can be made); HEX is the run's
 *                                       hint, the same in every name of a run
 *   .tether-report-PID-RAND  report     the private directory audit -o writes its report
 *                                       in before renaming it over FILE
 *   .tether-doctor-PID-RAND  doctor     the directory tether doctor probes a filesystem in
 *
 * PID: the decimal id of the process that made it, 1 to 2147483647 with no sign and no
 * leading zero (so whether its maker is still running can be asked). N: a decimal
 * counter, 0 to 4294967295, no leading zero. HEX: six lowercase hexadecimal digits.
 * RAND: six characters of [a-z0-9]. NAME: the name of the file it is beside, not empty,
 * not "." or "..". A name that starts with ".tether-" and has none of these shapes is
 * not tether's: tether never removes or changes it. */
#ifndef TETHER_CORE_TEMPNAME_H
#define TETHER_CORE_TEMPNAME_H

#define TT_TEMPNAME_PREFIX ".tether-"
/* printf format of a temp name: the pid (unsigned long), the counter (unsigned). */
#define TT_TEMPNAME_TEMP ".tether-%lu-%u.tmp"

#endif
