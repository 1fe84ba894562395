// Session setup as iscsid drives it (drivers/scsi/qedi/qedi_iscsi.c,
// libiscsi session setup and login), thin first cut.
#include "hba_model/hsi/regs.h"
#include "host_driver_model/qedi/thin/qedi_thin.h"

namespace qedisim::qedi {

using namespace hsi;

// iscsi_session_setup: the task pool; every itt starts free.
QediConn& QediCtx::iscsi_session_create(std::uint32_t session) {
  auto conn = std::make_unique<QediConn>();
  conn->session = session;
  conn->cmds.resize(params_.cmds_max);
  for (std::uint32_t itt = 0; itt < params_.cmds_max; ++itt) {
    conn->cmds[itt].itt = itt;
    conn->cmdpool.push_back(itt);
  }
  auto& ref = *conn;
  sessions_[session] = std::move(conn);
  return ref;
}

// qedi_ep_connect + the offload work (qedi_offload_work): allocate the cid
// and the SQ, post the offload ramrod, wait for its completion event
// (tcp_ofld_wait). Binding makes the cid's CQEs reach this conn.
bool QediCtx::qedi_ep_connect(QediConn& conn) {
  auto ep = std::make_unique<QediEndpoint>();
  ep->iscsi_cid = next_cid_++;
  ep->sq_size = params_.sq_depth;
  ep->sq_dma = mem_->dma_alloc_coherent(static_cast<std::size_t>(ep->sq_size) * sizeof(IscsiWqe));
  ep->state = QediEndpoint::State::ofld_pending;
  ep_tbl_[ep->iscsi_cid] = ep.get();
  conn_cid_tbl_[ep->iscsi_cid] = &conn;  // qedi_conn_bind
  conn.ep = std::move(ep);

  SpqEntry e;
  e.cmd_id = ISCSI_RAMROD_CMD_ID_OFFLOAD_CONN;
  e.cid = conn.ep->iscsi_cid;
  e.echo = conn.ep->iscsi_cid;
  e.sq_base = conn.ep->sq_dma;
  e.sq_size = conn.ep->sq_size;
  e.target_portal = conn.session;
  post_ramrod(e);
  while (conn.ep->state == QediEndpoint::State::ofld_pending) sc_core::wait(conn.ep->tcp_ofld_wait);
  return conn.ep->state == QediEndpoint::State::offloaded;
}

// iscsi login PDU on the offloaded connection; the login response CQE ends it.
bool QediCtx::iscsi_login(QediConn& conn) {
  if (!conn.ep || conn.ep->state != QediEndpoint::State::offloaded) return false;
  if (!qedi_send_iscsi_login(conn)) return false;
  while (!conn.logged_in && !conn.login_failed) sc_core::wait(conn.login_wait);
  return conn.logged_in;
}

}  // namespace qedisim::qedi
