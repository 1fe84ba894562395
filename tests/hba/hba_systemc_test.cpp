// The HBA driven purely through its bus, as a driver would: MMIO writes to
// BAR0, rings in HostMemory, MSI-X. Each case checks the CQEs one WQE type
// produces, against the real target model. One elaboration per process:
// CTest runs each case alone (--run_test=<case>).
#define BOOST_TEST_MODULE qedisim_hba_systemc
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>
#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "hba_model/hba.h"
#include "hba_model/host_memory.h"
#include "hba_model/hsi/regs.h"
#include "hba_model/hsi/ring.h"
#include "host_driver_model/kernel/io_mem.h"
#include "sim/failpoints/failpoints.h"
#include "sim/target/iscsi_target.h"

using namespace qedisim;
using namespace qedisim::hsi;
using sc_core::sc_time;
using sc_core::SC_US;

namespace {

constexpr std::uint32_t kSqDepth = 64;

class MsixRecorder : public sc_core::sc_module, public hba::MsixIf {
 public:
  explicit MsixRecorder(sc_core::sc_module_name n) : sc_module(n) {}
  void msix_raise(unsigned vector) override { raised.push_back(vector); }
  std::vector<unsigned> raised;
};

// A hand-written driver: the steps qedi takes, one MMIO write at a time.
class BusDriver : public sc_core::sc_module {
 public:
  kernel::IoMem bar{"bar"};
  std::function<void(BusDriver&)> script;
  bool finished = false;

  BusDriver(sc_core::sc_module_name n, hba::HostMemory& mem, std::uint32_t cq_depth)
      : sc_module(n), mem_(mem), cq_depth_(cq_depth) {
    SC_HAS_PROCESS(BusDriver);
    SC_THREAD(run);
  }

  // qedi_probe: rings and registers.
  void probe() {
    sb_ = mem_.dma_alloc_coherent(3 * sizeof(StatusBlock));
    tasks_ = mem_.dma_alloc_coherent(4096 * sizeof(IscsiTaskContext));
    spq_ = mem_.dma_alloc_coherent(16 * sizeof(SpqEntry));
    eq_ = mem_.dma_alloc_coherent(16 * sizeof(EventRingEntry));
    bar.writeq(REG_SB_BASE, sb_);
    bar.writeq(REG_TASK_CTX_BASE, tasks_);
    bar.writeq(REG_SPQ_BASE, spq_);
    bar.writel(REG_SPQ_SIZE, 16);
    bar.writeq(REG_EQ_BASE, eq_);
    bar.writel(REG_EQ_SIZE, 16);
    for (unsigned v = 0; v < 2; ++v) {
      cq_[v] = mem_.dma_alloc_coherent(cq_depth_ * sizeof(IscsiCqe));
      bar.writeq(reg_cq(v, REG_CQ_BASE), cq_[v]);
      bar.writel(reg_cq(v, REG_CQ_SIZE), cq_depth_);
    }
    BOOST_TEST(bar.readl(REG_FW_ID) == kHbaMagic);
  }

  void ramrod(const SpqEntry& e) {
    mem_.store(spq_ + RingIndex::slot(spq_prod_, 16) * sizeof(SpqEntry), e);
    bar.writel(REG_SPQ_PROD, ++spq_prod_);
  }

  EventRingEntry wait_event() {
    for (int i = 0; i < 100000; ++i) {
      if (mem_.load<StatusBlock>(sb_ + 2 * sizeof(StatusBlock)).cq_prod != eq_cons_) {
        const auto e = mem_.load<EventRingEntry>(eq_ + RingIndex::slot(eq_cons_, 16) * sizeof(EventRingEntry));
        bar.writel(REG_EQ_CONS, ++eq_cons_);
        return e;
      }
      sc_core::wait(sc_time(1, SC_US));
    }
    BOOST_FAIL("no event ring entry");
    return {};
  }

  // qedi_ep_connect: offload cid towards portal; SQ in host memory.
  void offload(std::uint16_t cid, std::uint32_t portal) {
    sq_[cid] = mem_.dma_alloc_coherent(kSqDepth * sizeof(IscsiWqe));
    SpqEntry e;
    e.cmd_id = ISCSI_RAMROD_CMD_ID_OFFLOAD_CONN;
    e.cid = cid;
    e.sq_base = sq_[cid];
    e.sq_size = kSqDepth;
    e.target_portal = portal;
    ramrod(e);
    const auto ev = wait_event();
    BOOST_TEST(ev.opcode == ISCSI_EVENT_TYPE_ASYN_CONNECT_COMPLETE);
    BOOST_TEST(ev.fw_return_code == FW_RETURN_OK);
  }

  // Task context + WQE + doorbell (qedi_task_xmit / qedi_iscsi_cleanup_task).
  void post(std::uint16_t cid, std::uint16_t tid, std::uint8_t wqe_type, const IscsiTaskContext* ctx = nullptr) {
    if (ctx) mem_.store(tasks_ + tid * sizeof(IscsiTaskContext), *ctx);
    IscsiWqe w;
    w.task_id = tid;
    w.wqe_type = wqe_type;
    mem_.store(sq_[cid] + RingIndex::slot(sq_prod_[cid], kSqDepth) * sizeof(IscsiWqe), w);
    bar.writel(reg_sq_doorbell(cid), ++sq_prod_[cid]);
  }

  std::uint32_t cq_prod(unsigned v) { return mem_.load<StatusBlock>(sb_ + v * sizeof(StatusBlock)).cq_prod; }

  // Consumes up to `max` CQEs of vector v now, writing CI back.
  std::vector<IscsiCqe> take(unsigned v, std::uint32_t max = ~0u) {
    std::vector<IscsiCqe> out;
    const std::uint32_t prod = cq_prod(v);
    while (cq_cons_[v] != prod && out.size() < max) {
      out.push_back(mem_.load<IscsiCqe>(cq_[v] + RingIndex::slot(cq_cons_[v], cq_depth_) * sizeof(IscsiCqe)));
      ++cq_cons_[v];
    }
    bar.writel(reg_cq(v, REG_CQ_CONS), cq_cons_[v]);
    return out;
  }

  // Waits (1us steps) until n CQEs are on vector v or the time limit passes.
  std::vector<IscsiCqe> wait_cqes(unsigned v, std::uint32_t n, double limit_us = 10000) {
    std::vector<IscsiCqe> out;
    for (double t = 0; t < limit_us && out.size() < n; t += 1) {
      auto more = take(v, n - static_cast<std::uint32_t>(out.size()));
      out.insert(out.end(), more.begin(), more.end());
      if (out.size() < n) sc_core::wait(sc_time(1, SC_US));
    }
    return out;
  }

  void wait_us(double us) { sc_core::wait(sc_time(us, SC_US)); }

 private:
  void run() {
    probe();
    if (script) script(*this);
    finished = true;
    sc_core::sc_stop();
  }

  hba::HostMemory& mem_;
  std::uint32_t cq_depth_;
  std::uint64_t sb_ = 0, tasks_ = 0, spq_ = 0, eq_ = 0, cq_[2] = {0, 0};
  std::uint64_t sq_[4] = {0, 0, 0, 0};
  std::uint32_t sq_prod_[4] = {0, 0, 0, 0};
  std::uint32_t spq_prod_ = 0, eq_cons_ = 0;
  std::uint32_t cq_cons_[2] = {0, 0};
};

struct Bench {
  std::unique_ptr<Failpoints> failpoints;
  std::unique_ptr<hba::HostMemory> mem;
  std::unique_ptr<hba::Hba> hba;
  std::unique_ptr<target::IscsiTarget> target;
  std::unique_ptr<MsixRecorder> msix;
  std::unique_ptr<BusDriver> driver;
};

// Once per process; kept until exit (SystemC holds on to its processes).
Bench& bench() {
  static Bench* const b = new Bench;
  return *b;
}

// Builds the bench and runs `script` in the driver's thread.
// The target as TargetConfig's defaults (every command takes 100us, a TMF
// acts 100us after it arrives), two LUNs; `tune` may change it.
Bench& run(std::vector<Failpoint> fps, std::function<void(BusDriver&)> script, std::uint32_t cq_depth = 64,
           const std::function<void(target::TargetConfig&)>& tune = nullptr) {
  Bench* const b = &bench();
  b->failpoints = std::make_unique<Failpoints>(std::move(fps), std::vector<Action>{});
  hba::FirmwareConfig cfg;  // default parameters (qedisim params), 2 vectors
  target::TargetConfig tcfg;
  tcfg.luns_per_portal = {2};
  if (tune) tune(tcfg);
  b->mem = std::make_unique<hba::HostMemory>("mem");
  b->hba = std::make_unique<hba::Hba>("hba", cfg, b->failpoints.get());
  b->target = std::make_unique<target::IscsiTarget>("target", tcfg, b->failpoints.get());
  b->msix = std::make_unique<MsixRecorder>("msix");
  b->driver = std::make_unique<BusDriver>("driver", *b->mem, cq_depth);
  b->hba->dma.bind(b->mem->socket);
  b->driver->bar.socket.bind(b->hba->mmio);
  b->hba->msix.bind(*b->msix);
  b->hba->bind_target(*b->target);
  b->target->bind_initiator(*b->hba);
  b->driver->script = std::move(script);
  sc_core::sc_start(sc_time(10, sc_core::SC_SEC));
  BOOST_TEST(b->driver->finished);
  return *b;
}

Failpoint fp(std::string point, FailAction action, Match match = {}) {
  Failpoint f;
  f.point = std::move(point);
  f.match = std::move(match);
  f.action = action;
  return f;
}
FailAction drop() { return FailAction{FailAction::Kind::drop, {}, TmfRespond::complete}; }
FailAction delay(Duration d) { return FailAction{FailAction::Kind::delay, d, TmfRespond::complete}; }
FailAction respond(TmfRespond r) { return FailAction{FailAction::Kind::respond, {}, r}; }

IscsiTaskContext task(std::uint8_t opcode, std::uint16_t tid, std::uint32_t itt, std::uint8_t cq = 0,
                      std::uint64_t lun = 0) {
  IscsiTaskContext c;
  c.opcode = opcode;
  c.flags = opcode == ISCSI_OP_SCSI_CMD ? TASK_FLAG_READ : 0;
  c.cq_rss_number = cq;
  c.itt = qedi_set_itt(tid, itt);
  c.lun = lun;
  c.data_length = opcode == ISCSI_OP_SCSI_CMD ? 4096 : 0;
  return c;
}

IscsiTaskContext tmf(std::uint16_t tid, std::uint32_t itt, std::uint8_t function, std::uint32_t rtt,
                     std::uint64_t lun = 0) {
  IscsiTaskContext c = task(ISCSI_OP_SCSI_TMFUNC, tid, itt, 0, lun);
  c.tmf_function = function;
  c.rtt = rtt;
  return c;
}

double now_us() { return static_cast<double>(sim_now_ns()) / 1000.0; }

}  // namespace

BOOST_AUTO_TEST_CASE(scsi_command_completes_on_the_cq_of_its_cpu) {
  auto& b = run({}, [](BusDriver& d) {
    d.offload(0, 0);
    const double t0 = now_us();
    const auto ctx = task(ISCSI_OP_SCSI_CMD, 7, 2, /*cq*/ 1, /*lun*/ 1);
    d.post(0, 7, ISCSI_WQE_TYPE_NORMAL, &ctx);
    const auto cqes = d.wait_cqes(1, 1);
    BOOST_REQUIRE(cqes.size() == 1u);
    BOOST_TEST(cqes[0].cqe_type == ISCSI_CQE_TYPE_SOLICITED);
    BOOST_TEST(cqes[0].opcode == ISCSI_OP_SCSI_CMD_RSP);
    BOOST_TEST(cqes[0].itid == 7u);
    BOOST_TEST(cqes[0].itt == qedi_set_itt(7, 2));
    BOOST_TEST(cqes[0].scsi_status == SAM_STAT_GOOD);
    // fw.wqe_latency + target.latency
    BOOST_TEST(now_us() - t0 >= 102.0);
    BOOST_TEST(d.take(0).empty());
  });
  BOOST_TEST(b.hba->firmware().tids_in_use() == 0u);
  BOOST_TEST(b.hba->firmware().quiescent());
  BOOST_TEST(!b.msix->raised.empty());
}

// TLM-2.0 DMI: the HBA's first DMA goes through the host memory's
// b_transport, which offers a direct pointer to what is allocated; from then
// on DMA copies directly. A ring allocated after the grant (a second
// connection's SQ) is reached through b_transport once, which widens it.
BOOST_AUTO_TEST_CASE(dma_is_direct_after_a_grant_and_reaches_later_allocations) {
  std::uint64_t granted = 0, direct = 0, widened = 0;
  run({}, [&](BusDriver& d) {
    const hba::HostMemory& mem = *bench().mem;
    d.offload(0, 0);
    granted = mem.dma_transactions();
    for (std::uint16_t tid = 1; tid <= 3; ++tid) {
      const auto ctx = task(ISCSI_OP_SCSI_CMD, tid, tid);
      d.post(0, tid, ISCSI_WQE_TYPE_NORMAL, &ctx);
    }
    BOOST_TEST(d.wait_cqes(0, 3).size() == 3u);
    direct = mem.dma_transactions();
    d.offload(1, 0);
    const auto ctx = task(ISCSI_OP_SCSI_CMD, 4, 4);
    d.post(1, 4, ISCSI_WQE_TYPE_NORMAL, &ctx);
    const auto cqes = d.wait_cqes(0, 1);
    BOOST_REQUIRE(cqes.size() == 1u);
    BOOST_TEST(cqes[0].itt == qedi_set_itt(4, 4));
    BOOST_TEST(cqes[0].scsi_status == SAM_STAT_GOOD);
    widened = mem.dma_transactions();
  });
  BOOST_TEST(granted >= 1u);           // the first DMA, before any grant
  BOOST_TEST(direct == granted);       // three commands' WQEs, contexts, CQEs: all direct
  BOOST_TEST(widened == direct + 1u);  // the new SQ's first WQE fetch
}

BOOST_AUTO_TEST_CASE(login_nop_text_logout_complete_on_cq0) {
  run({}, [](BusDriver& d) {
    d.offload(1, 0);
    const auto login = task(ISCSI_OP_LOGIN, 1, 0);
    const auto nop = task(ISCSI_OP_NOOP_OUT, 2, 1);
    const auto text = task(ISCSI_OP_TEXT, 3, 2);
    const auto logout = task(ISCSI_OP_LOGOUT, 4, 3);
    d.post(1, 1, ISCSI_WQE_TYPE_LOGIN, &login);
    d.post(1, 2, ISCSI_WQE_TYPE_MIDDLE_PATH, &nop);
    d.post(1, 3, ISCSI_WQE_TYPE_MIDDLE_PATH, &text);
    d.post(1, 4, ISCSI_WQE_TYPE_MIDDLE_PATH, &logout);
    const auto cqes = d.wait_cqes(0, 4);
    BOOST_REQUIRE(cqes.size() == 4u);
    const std::uint8_t expect[] = {ISCSI_OP_LOGIN_RSP, ISCSI_OP_NOOP_IN, ISCSI_OP_TEXT_RSP, ISCSI_OP_LOGOUT_RSP};
    for (int i = 0; i < 4; ++i) {
      BOOST_TEST(cqes[i].cqe_type == ISCSI_CQE_TYPE_SOLICITED);
      BOOST_TEST(cqes[i].opcode == expect[i]);
      BOOST_TEST(cqes[i].itid == static_cast<std::uint16_t>(i + 1));
      BOOST_TEST(cqes[i].conn_id == 1u);
    }
    BOOST_TEST(d.take(1).empty());
  });
}

BOOST_AUTO_TEST_CASE(nop_out_with_local_completion_needs_no_target_answer) {
  run({}, [](BusDriver& d) {
    d.offload(0, 0);
    auto nop = task(ISCSI_OP_NOOP_OUT, 3, 0);
    nop.itt = ISCSI_RESERVED_TAG;  // answering a target NOP-In
    nop.flags = TASK_FLAG_LOCAL_COMP;
    const double t0 = now_us();
    d.post(0, 3, ISCSI_WQE_TYPE_MIDDLE_PATH, &nop);
    const auto cqes = d.wait_cqes(0, 1);
    BOOST_REQUIRE(cqes.size() == 1u);
    BOOST_TEST(cqes[0].cqe_type == ISCSI_CQE_TYPE_SOLICITED);
    BOOST_TEST((cqes[0].flags & CQE_FLAG_LOCAL_COMP) != 0);
    BOOST_TEST(now_us() - t0 < 10.0);
  });
}

BOOST_AUTO_TEST_CASE(abort_task_of_a_hung_command_then_cleanup) {
  auto& b = run({fp("target.scsi_rsp", drop())}, [](BusDriver& d) {
    d.offload(0, 0);
    const auto victim = task(ISCSI_OP_SCSI_CMD, 5, 9, /*cq*/ 1);
    d.post(0, 5, ISCSI_WQE_TYPE_NORMAL, &victim);
    d.wait_us(500);
    BOOST_TEST(d.take(1).empty());  // the target holds it
    // qedi_abort_work: cleanup the victim first, then ABORT TASK on the wire.
    d.post(0, 5, ISCSI_WQE_TYPE_TASK_CLEANUP);
    const auto cleanup = d.wait_cqes(1, 1);
    BOOST_REQUIRE(cleanup.size() == 1u);
    BOOST_TEST(cleanup[0].cqe_type == ISCSI_CQE_TYPE_TASK_CLEANUP);
    BOOST_TEST(cleanup[0].itid == 5u);
    const auto abort = tmf(6, 10, ISCSI_TM_FUNC_ABORT_TASK, victim.itt);
    d.post(0, 6, ISCSI_WQE_TYPE_MIDDLE_PATH, &abort);
    const auto rsp = d.wait_cqes(0, 1);
    BOOST_REQUIRE(rsp.size() == 1u);
    BOOST_TEST(rsp[0].opcode == ISCSI_OP_SCSI_TMFUNC_RSP);
    BOOST_TEST(rsp[0].response == ISCSI_TMF_RSP_COMPLETE);
    BOOST_TEST(rsp[0].itid == 6u);
    d.wait_us(1000);
    BOOST_TEST(d.take(1).empty());
  });
  BOOST_TEST(b.target->counters().tasks_aborted == 1u);
  BOOST_TEST(b.target->outstanding(0) == 0u);
  BOOST_TEST(b.hba->firmware().counters().cleanups_completed == 1u);
}

BOOST_AUTO_TEST_CASE(abort_task_for_an_unknown_task_answers_no_task) {
  run({}, [](BusDriver& d) {
    d.offload(0, 0);
    const auto abort = tmf(6, 10, ISCSI_TM_FUNC_ABORT_TASK, qedi_set_itt(99, 1));
    d.post(0, 6, ISCSI_WQE_TYPE_MIDDLE_PATH, &abort);
    const auto rsp = d.wait_cqes(0, 1);
    BOOST_REQUIRE(rsp.size() == 1u);
    BOOST_TEST(rsp[0].response == ISCSI_TMF_RSP_NO_TASK);
  });
}

BOOST_AUTO_TEST_CASE(lu_reset_drops_the_luns_commands_unanswered) {
  Match lun0;
  lun0.lun = 0;
  auto& b = run({fp("target.scsi_rsp", drop(), lun0)}, [](BusDriver& d) {
    d.offload(0, 0);
    const auto a = task(ISCSI_OP_SCSI_CMD, 1, 1, 0, 0);
    const auto c = task(ISCSI_OP_SCSI_CMD, 2, 2, 0, 0);
    const auto other = task(ISCSI_OP_SCSI_CMD, 3, 3, 1, /*lun*/ 1);
    d.post(0, 1, ISCSI_WQE_TYPE_NORMAL, &a);
    d.post(0, 2, ISCSI_WQE_TYPE_NORMAL, &c);
    d.post(0, 3, ISCSI_WQE_TYPE_NORMAL, &other);
    const auto lun1 = d.wait_cqes(1, 1);
    BOOST_REQUIRE(lun1.size() == 1u);
    BOOST_TEST(lun1[0].itid == 3u);
    const auto reset = tmf(4, 4, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, ISCSI_RESERVED_TAG, 0);
    d.post(0, 4, ISCSI_WQE_TYPE_MIDDLE_PATH, &reset);
    const auto rsp = d.wait_cqes(0, 1);
    BOOST_REQUIRE(rsp.size() == 1u);
    BOOST_TEST(rsp[0].response == ISCSI_TMF_RSP_COMPLETE);
    // qedi_cleanup_all_io after the reset: one cleanup CQE per command.
    d.post(0, 1, ISCSI_WQE_TYPE_TASK_CLEANUP);
    d.post(0, 2, ISCSI_WQE_TYPE_TASK_CLEANUP);
    const auto cleanups = d.wait_cqes(0, 2);
    BOOST_REQUIRE(cleanups.size() == 2u);
    BOOST_TEST(cleanups[0].cqe_type == ISCSI_CQE_TYPE_TASK_CLEANUP);
    BOOST_TEST(cleanups[1].itid == 2u);
  });
  BOOST_TEST(b.target->counters().tasks_reset == 2u);
  BOOST_TEST(b.target->outstanding(0) == 0u);
  BOOST_TEST(b.hba->firmware().tids_in_use() == 0u);
}

// Commands take 1ms to serve; a TMF acts 20us after it arrives.
namespace {
void slow_service_fast_tmf(target::TargetConfig& t) {
  t.latency = Duration::from_ms(1);
  t.tmf_latency = Duration::from_us(20);
}
}  // namespace

// Task management on arrival: an LU reset overtakes the LUN's commands still
// in service; they are never answered, the other LUN's command is.
BOOST_AUTO_TEST_CASE(lu_reset_overtakes_commands_in_service) {
  auto& b = run(
      {},
      [](BusDriver& d) {
        d.offload(0, 0);
        const auto a = task(ISCSI_OP_SCSI_CMD, 1, 1, 0, 0);
        const auto c = task(ISCSI_OP_SCSI_CMD, 2, 2, 0, 0);
        const auto other = task(ISCSI_OP_SCSI_CMD, 3, 3, 1, /*lun*/ 1);
        d.post(0, 1, ISCSI_WQE_TYPE_NORMAL, &a);
        d.post(0, 2, ISCSI_WQE_TYPE_NORMAL, &c);
        d.post(0, 3, ISCSI_WQE_TYPE_NORMAL, &other);
        const auto reset = tmf(4, 4, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, ISCSI_RESERVED_TAG, 0);
        d.post(0, 4, ISCSI_WQE_TYPE_MIDDLE_PATH, &reset);
        const double t0 = now_us();
        const auto rsp = d.wait_cqes(0, 1);
        BOOST_REQUIRE(rsp.size() == 1u);
        BOOST_TEST(rsp[0].opcode == ISCSI_OP_SCSI_TMFUNC_RSP);
        BOOST_TEST(rsp[0].response == ISCSI_TMF_RSP_COMPLETE);
        BOOST_TEST(now_us() - t0 < 1000.0);  // long before the commands' 1ms service time
        const auto lun1 = d.wait_cqes(1, 1);
        BOOST_REQUIRE(lun1.size() == 1u);
        BOOST_TEST(lun1[0].itid == 3u);
        d.wait_us(5000);
        BOOST_TEST(d.take(0).empty());  // the reset LUN's commands are never answered
      },
      64, slow_service_fast_tmf);
  BOOST_TEST(b.target->counters().tasks_reset == 2u);
  BOOST_TEST(b.target->counters().scsi_rsps_sent == 1u);
  BOOST_TEST(b.target->outstanding(0) == 0u);
}

// ABORT TASK of a task still in service: FUNCTION COMPLETE, and the task is
// never answered; of a task already answered: TASK DOES NOT EXIST.
BOOST_AUTO_TEST_CASE(abort_task_removes_an_unanswered_task_and_finds_no_answered_one) {
  auto& b = run(
      {},
      [](BusDriver& d) {
        d.offload(0, 0);
        const auto victim = task(ISCSI_OP_SCSI_CMD, 1, 1);
        d.post(0, 1, ISCSI_WQE_TYPE_NORMAL, &victim);
        const auto abort = tmf(2, 2, ISCSI_TM_FUNC_ABORT_TASK, victim.itt);
        d.post(0, 2, ISCSI_WQE_TYPE_MIDDLE_PATH, &abort);
        const auto rsp = d.wait_cqes(0, 1);
        BOOST_REQUIRE(rsp.size() == 1u);
        BOOST_TEST(rsp[0].response == ISCSI_TMF_RSP_COMPLETE);
        d.wait_us(3000);
        BOOST_TEST(d.take(0).empty());
        const auto done = task(ISCSI_OP_SCSI_CMD, 3, 3);
        d.post(0, 3, ISCSI_WQE_TYPE_NORMAL, &done);
        BOOST_REQUIRE(d.wait_cqes(0, 1).size() == 1u);
        const auto late = tmf(4, 4, ISCSI_TM_FUNC_ABORT_TASK, done.itt);
        d.post(0, 4, ISCSI_WQE_TYPE_MIDDLE_PATH, &late);
        const auto no = d.wait_cqes(0, 1);
        BOOST_REQUIRE(no.size() == 1u);
        BOOST_TEST(no[0].response == ISCSI_TMF_RSP_NO_TASK);
      },
      64, slow_service_fast_tmf);
  BOOST_TEST(b.target->counters().tasks_aborted == 1u);
  BOOST_TEST(b.target->counters().scsi_rsps_sent == 1u);
}

// A LUN serves target.queue_depth commands at once; the others wait in its
// queue and start as slots free, in arrival order.
BOOST_AUTO_TEST_CASE(commands_beyond_the_queue_depth_wait_for_a_slot) {
  auto& b = run(
      {},
      [](BusDriver& d) {
        d.offload(0, 0);
        const double t0 = now_us();
        for (std::uint16_t t = 1; t <= 4; ++t) {
          const auto c = task(ISCSI_OP_SCSI_CMD, t, t);
          d.post(0, t, ISCSI_WQE_TYPE_NORMAL, &c);
        }
        const auto first = d.wait_cqes(0, 2);
        BOOST_REQUIRE(first.size() == 2u);
        BOOST_TEST(first[0].itid == 1u);
        BOOST_TEST(first[1].itid == 2u);
        BOOST_TEST(now_us() - t0 < 200.0);
        const auto second = d.wait_cqes(0, 2);
        BOOST_REQUIRE(second.size() == 2u);
        BOOST_TEST(second[0].itid == 3u);
        BOOST_TEST(second[1].itid == 4u);
        BOOST_TEST(now_us() - t0 >= 200.0);  // two service times
      },
      64, [](target::TargetConfig& t) { t.queue_depth = 2; });
  BOOST_TEST(b.target->counters().scsi_cmds_queued == 2u);
  BOOST_TEST(b.target->counters().scsi_rsps_sent == 4u);
}

BOOST_AUTO_TEST_CASE(target_reset_rejected_by_failpoint_keeps_commands) {
  Match m;
  m.function = TmfFunction::target_reset;
  auto& b =
      run({fp("target.scsi_rsp", drop()), fp("target.tmf_rsp", respond(TmfRespond::rejected), m)}, [](BusDriver& d) {
        d.offload(0, 0);
        const auto a = task(ISCSI_OP_SCSI_CMD, 1, 1);
        d.post(0, 1, ISCSI_WQE_TYPE_NORMAL, &a);
        const auto reset = tmf(2, 2, ISCSI_TM_FUNC_TARGET_WARM_RESET, ISCSI_RESERVED_TAG);
        d.post(0, 2, ISCSI_WQE_TYPE_MIDDLE_PATH, &reset);
        const auto rsp = d.wait_cqes(0, 1);
        BOOST_REQUIRE(rsp.size() == 1u);
        BOOST_TEST(rsp[0].response == ISCSI_TMF_RSP_REJECTED);
      });
  BOOST_TEST(b.target->outstanding(0) == 1u);
  BOOST_TEST(b.target->counters().tasks_reset == 0u);
}

BOOST_AUTO_TEST_CASE(tmf_response_drop_and_delay) {
  Match abort_m;
  abort_m.function = TmfFunction::abort_task;
  Match lu_m;
  lu_m.function = TmfFunction::lu_reset;
  run({fp("target.tmf_rsp", drop(), abort_m), fp("target.tmf_rsp", delay(Duration::from_ms(2)), lu_m)},
      [](BusDriver& d) {
        d.offload(0, 0);
        const auto abort = tmf(1, 1, ISCSI_TM_FUNC_ABORT_TASK, qedi_set_itt(9, 9));
        d.post(0, 1, ISCSI_WQE_TYPE_MIDDLE_PATH, &abort);
        d.wait_us(1000);
        BOOST_TEST(d.take(0).empty());
        const double t0 = now_us();
        const auto reset = tmf(2, 2, ISCSI_TM_FUNC_LOGICAL_UNIT_RESET, ISCSI_RESERVED_TAG, 1);
        d.post(0, 2, ISCSI_WQE_TYPE_MIDDLE_PATH, &reset);
        const auto rsp = d.wait_cqes(0, 1);
        BOOST_REQUIRE(rsp.size() == 1u);
        BOOST_TEST(now_us() - t0 >= 2102.0);
      });
}

BOOST_AUTO_TEST_CASE(cleanup_drops_a_late_response) {
  auto& b = run({fp("target.scsi_rsp", delay(Duration::from_us(200)))}, [](BusDriver& d) {
    d.offload(0, 0);
    const auto a = task(ISCSI_OP_SCSI_CMD, 8, 1, 1);
    d.post(0, 8, ISCSI_WQE_TYPE_NORMAL, &a);
    d.wait_us(50);
    const double t0 = now_us();
    d.post(0, 8, ISCSI_WQE_TYPE_TASK_CLEANUP);
    const auto c = d.wait_cqes(1, 1);
    BOOST_REQUIRE(c.size() == 1u);
    BOOST_TEST(c[0].cqe_type == ISCSI_CQE_TYPE_TASK_CLEANUP);
    BOOST_TEST(now_us() - t0 >= 22.0);  // fw.wqe_latency + fw.cleanup_latency
    d.wait_us(1000);                    // the response (at ~302us) comes and is dropped
    BOOST_TEST(d.take(1).empty());
  });
  BOOST_TEST(b.hba->firmware().counters().responses_dropped_invalidated == 1u);
  BOOST_TEST(b.target->counters().scsi_rsps_delayed == 1u);
}

BOOST_AUTO_TEST_CASE(fw_cleanup_and_fw_cqe_failpoints_delay_completions) {
  Match sol;
  sol.type = CqeType::solicited;
  run({fp("fw.cleanup", delay(Duration::from_ms(1))), fp("fw.cqe", delay(Duration::from_us(500)), sol)},
      [](BusDriver& d) {
        d.offload(0, 0);
        double t0 = now_us();
        d.post(0, 3, ISCSI_WQE_TYPE_TASK_CLEANUP);  // an idle tid: still answered once
        auto c = d.wait_cqes(0, 1, 5000);
        BOOST_REQUIRE(c.size() == 1u);
        BOOST_TEST(now_us() - t0 >= 1022.0);
        t0 = now_us();
        const auto a = task(ISCSI_OP_SCSI_CMD, 4, 1, 0);
        d.post(0, 4, ISCSI_WQE_TYPE_NORMAL, &a);
        c = d.wait_cqes(0, 1, 5000);
        BOOST_REQUIRE(c.size() == 1u);
        BOOST_TEST(now_us() - t0 >= 602.0);
      });
}

BOOST_AUTO_TEST_CASE(unsolicited_nop_in_and_dummy_cqes) {
  run({}, [](BusDriver& d) {
    d.offload(0, 0);
    // The target pings: an unsolicited NOP-In, no task, CQ 0.
    bench().target->send_nop_in(0);
    auto u = d.wait_cqes(0, 1);
    BOOST_REQUIRE(u.size() == 1u);
    BOOST_TEST(u[0].cqe_type == ISCSI_CQE_TYPE_UNSOLICITED);
    BOOST_TEST(u[0].opcode == ISCSI_OP_NOOP_IN);
    d.bar.writel(REG_DBG_DUMMY_CQE, 1);
    auto dummy = d.wait_cqes(1, 1);
    BOOST_REQUIRE(dummy.size() == 1u);
    BOOST_TEST(dummy[0].cqe_type == ISCSI_CQE_TYPE_DUMMY);
  });
}

BOOST_AUTO_TEST_CASE(full_cq_holds_cqes_until_ci_write_back) {
  auto& b = run(
      {},
      [](BusDriver& d) {
        d.offload(0, 0);
        std::vector<IscsiTaskContext> ctx;
        for (std::uint16_t tid = 1; tid <= 8; ++tid) ctx.push_back(task(ISCSI_OP_SCSI_CMD, tid, tid, 0));
        for (std::uint16_t tid = 1; tid <= 8; ++tid) d.post(0, tid, ISCSI_WQE_TYPE_NORMAL, &ctx[tid - 1]);
        d.wait_us(500);
        BOOST_TEST(d.cq_prod(0) == 4u);  // cq_depth 4: the rest is held
        auto first = d.take(0, 2);       // CI write-back frees two slots
        BOOST_TEST(first.size() == 2u);
        BOOST_TEST(d.cq_prod(0) == 6u);
        auto rest = d.wait_cqes(0, 6);
        BOOST_REQUIRE(rest.size() == 6u);
        for (std::uint16_t i = 0; i < 6; ++i)
          BOOST_TEST(rest[i].itid == static_cast<std::uint16_t>(i + 3));  // order kept
      },
      /*cq_depth*/ 4);
  BOOST_TEST(b.hba->firmware().cq(0).full_stalls() == 4u);
  BOOST_TEST(b.hba->firmware().cq_held(0) == 0u);
}

BOOST_AUTO_TEST_CASE(logout_response_drop) {
  run({fp("target.logout_rsp", drop())}, [](BusDriver& d) {
    d.offload(0, 0);
    const auto logout = task(ISCSI_OP_LOGOUT, 1, 1);
    d.post(0, 1, ISCSI_WQE_TYPE_MIDDLE_PATH, &logout);
    d.wait_us(2000);
    BOOST_TEST(d.take(0).empty());
  });
}

BOOST_AUTO_TEST_CASE(clear_sq_and_destroy_conn) {
  auto& b = run({fp("target.scsi_rsp", drop())}, [](BusDriver& d) {
    d.offload(0, 0);
    const auto held = task(ISCSI_OP_SCSI_CMD, 1, 1);
    d.post(0, 1, ISCSI_WQE_TYPE_NORMAL, &held);
    d.wait_us(10);  // on the wire, held by the target
    const auto queued = task(ISCSI_OP_SCSI_CMD, 2, 2);
    d.post(0, 2, ISCSI_WQE_TYPE_NORMAL, &queued);
    SpqEntry clear;
    clear.cmd_id = ISCSI_RAMROD_CMD_ID_CLEAR_SQ;
    clear.cid = 0;
    d.ramrod(clear);  // same instant: tid 2 fetched, not yet on the wire
    auto ev = d.wait_event();
    BOOST_TEST(ev.opcode == ISCSI_EVENT_TYPE_CLEAR_SQ);
    SpqEntry term;
    term.cmd_id = ISCSI_RAMROD_CMD_ID_TERMINATION_CONN;
    term.cid = 0;
    term.flags = SPQ_FLAG_ABORTIVE;
    const double t0 = now_us();
    d.ramrod(term);
    ev = d.wait_event();
    BOOST_TEST(ev.opcode == ISCSI_EVENT_TYPE_ASYN_TERMINATE_DONE);
    BOOST_TEST(ev.fw_return_code == FW_RETURN_OK);
    BOOST_TEST(now_us() - t0 >= 1000.0);  // fw.destroy_conn_latency
    // A doorbell on the destroyed connection is ignored.
    const auto late = task(ISCSI_OP_SCSI_CMD, 3, 3);
    d.post(0, 3, ISCSI_WQE_TYPE_NORMAL, &late);
    d.wait_us(500);
    BOOST_TEST(d.take(0).empty());
  });
  const auto& c = b.hba->firmware().counters();
  BOOST_TEST(c.tasks_flushed == 1u);
  BOOST_TEST(c.tasks_dropped == 1u);
  BOOST_TEST(c.doorbell_errors == 1u);
  BOOST_TEST(b.target->counters().scsi_cmds_received == 1u);
  BOOST_TEST(b.target->counters().tasks_dropped_on_close == 1u);
  BOOST_TEST(b.hba->firmware().tids_in_use() == 0u);
}

// Two racing writers of the driver's producer index (qedi_get_wqe_idx
// without frwd_lock) can ring a doorbell behind the consumer. The firmware
// refuses it, and one beyond the ring, instead of fetching a lap of stale WQEs.
BOOST_AUTO_TEST_CASE(doorbell_behind_the_consumer_or_beyond_the_ring_is_refused) {
  auto& b = run({}, [](BusDriver& d) {
    d.offload(0, 0);
    const auto first = task(ISCSI_OP_SCSI_CMD, 1, 1);
    d.post(0, 1, ISCSI_WQE_TYPE_NORMAL, &first);
    BOOST_TEST(d.wait_cqes(0, 1).size() == 1u);
    d.bar.writel(reg_sq_doorbell(0), 0);             // back behind the consumer (1)
    d.bar.writel(reg_sq_doorbell(0), 2 + kSqDepth);  // more WQEs than the ring holds
    d.wait_us(500);
    BOOST_TEST(d.take(0).empty());
    const auto second = task(ISCSI_OP_SCSI_CMD, 2, 2);
    d.post(0, 2, ISCSI_WQE_TYPE_NORMAL, &second);  // the producer the driver meant: 2
    BOOST_TEST(d.wait_cqes(0, 1).size() == 1u);
  });
  const auto& c = b.hba->firmware().counters();
  BOOST_TEST(c.sq_prod_errors == 2u);
  BOOST_TEST(c.wqes_fetched == 2u);
  BOOST_TEST(c.wqe_errors == 0u);
}

int sc_main(int argc, char* argv[]) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
