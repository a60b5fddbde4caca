/* The read-only answer to "can a link be made here": the directory's attributes, the
 * caller's access to it, and what its filesystem's type is known to keep. */
#include "canlink.h"

#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>

int tt_can_link(const char *dir, char *fs, size_t cap, tt_err *e)
{
    pf_dir *d;
    int err = pf_dir_open(NULL, dir, PF_DIR_FOLLOW, &d);
    if (err) return tt_fail(e, err, dir, NULL, NULL);
    tt_stat st;
    int rc = -1;
    if ((err = pf_dir_self(d, PF_STAT_ATTRS, &st)) != 0)
        tt_fail(e, err, dir, NULL, NULL);
    else if (st.attrs & (TT_ATTR_IMMUTABLE | TT_ATTR_APPEND))
        tt_fail(e, EPERM, dir, "is immutable or append-only: nothing can be renamed out of it",
                "chattr -i -a it first");
    else if ((err = pf_dir_access(d, ".", PF_ACCESS_WRITE)) != 0)
        tt_fail(e, err, dir, NULL, NULL);
    else if ((rc = pf_dir_fs_links(d, fs, cap)) == PF_LINKS_NO) {
        static char msg[128];
        snprintf(msg, sizeof msg, "its filesystem (%s) keeps no symbolic links", fs);
        rc = tt_fail(e, ENOTSUP, dir, msg, NULL);
    } else
        rc = rc == PF_LINKS_YES ? TT_CANLINK_YES : TT_CANLINK_UNKNOWN;
    pf_dir_close(d);
    return rc;
}
