#include "common/vocabulary.h"

namespace qedisim {

QEDISIM_DEFINE_NAMES(OpKind, 2, "read", "write")
QEDISIM_DEFINE_NAMES(TmfFunction, 3, "abort_task", "lu_reset", "target_reset")
QEDISIM_DEFINE_NAMES(TmfRespond, 3, "complete", "no_task", "rejected")
QEDISIM_DEFINE_NAMES(CqeType, 4, "solicited", "cleanup", "unsolicited", "dummy")
QEDISIM_DEFINE_NAMES(Gfp, 3, "atomic", "noio", "kernel")
QEDISIM_DEFINE_NAMES(StopFlag, 2, "term", "recover")
QEDISIM_DEFINE_NAMES(ResetLevel, 3, "device", "target", "host")
QEDISIM_DEFINE_NAMES(EhLevel, 6, "none", "abort", "device", "target", "session", "host")
QEDISIM_DEFINE_NAMES(ActionKind, 12, "iscsid.logout", "iscsid.terminate", "iscsid.ep_disconnect", "iscsid.destroy_conn",
                     "iscsid.destroy_session", "iscsid.stop_conn", "iscsid.relogin", "link.down", "link.up",
                     "scsi.reset", "scsi.abort", "hba.remove")

}  // namespace qedisim
