#include "sim/scenario/vocabulary.h"

namespace qedisim {

QEDISIM_DEFINE_NAMES(InvariantId, 17, "uaf", "double_free", "null_deref", "leak", "double_complete", "tid_leak",
                     "tid_double_owner", "wrong_task_cleanup", "fw_orphan", "xmit_after_unbind",
                     "work_after_disconnect", "cleanup_stall", "driver_session_state", "data_race", "hung_task",
                     "unnecessary_escalation", "sq_overwrite")

}  // namespace qedisim
