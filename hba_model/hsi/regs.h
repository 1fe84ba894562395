// MMIO register map of the modelled HBA (BAR0). 32-bit registers unless noted;
// 64-bit ones are written with one 8-byte access. See hba_model/README.md.
#pragma once

#include <cstdint>

namespace qedisim::hsi {

constexpr std::uint32_t kHbaMagic = 0x51454449;  // "QEDI"

enum : std::uint64_t {
  REG_FW_ID = 0x0000,          // RO kHbaMagic
  REG_NUM_VECTORS = 0x0004,    // RO: CQ vectors (hba.cpus); the slow-path vector is this index
  REG_NUM_TIDS = 0x0008,       // RO: task contexts (hba.tids)
  REG_SB_BASE = 0x0010,        // 64: status block array, one StatusBlock per vector incl. slow path
  REG_TASK_CTX_BASE = 0x0018,  // 64: IscsiTaskContext array indexed by tid
  REG_SPQ_BASE = 0x0020,       // 64: slow-path queue (SpqEntry ring)
  REG_SPQ_SIZE = 0x0028,       // entries
  REG_SPQ_PROD = 0x002c,       // doorbell: free-running producer index
  REG_EQ_BASE = 0x0030,        // 64: event ring (EventRingEntry ring)
  REG_EQ_SIZE = 0x0038,        // entries
  REG_EQ_CONS = 0x003c,        // driver's free-running consumer index
  REG_DBG_DUMMY_CQE = 0x0040,  // write: post a DUMMY CQE on CQ <value> (test hook, no kernel counterpart)

  // Per CQ vector v: base REG_CQ_BLOCK + v * REG_CQ_STRIDE.
  REG_CQ_BLOCK = 0x1000,
  REG_CQ_STRIDE = 0x20,
  REG_CQ_BASE = 0x00,  // 64: CQ ring (IscsiCqe entries)
  REG_CQ_SIZE = 0x08,  // entries
  REG_CQ_CONS = 0x0c,  // driver's free-running consumer index (CI write-back)
  REG_IGU_ACK = 0x10,  // qed_sb_ack: bit 31 enable; bits 15..0 the sb_index the driver saw

  // Per connection cid: SQ producer doorbell (qedi_ring_doorbell).
  REG_SQ_DOORBELL = 0x10000,
  REG_SQ_DOORBELL_STRIDE = 0x8,

  REG_BAR_SIZE = 0x20000,
};

constexpr std::uint32_t IGU_INT_ENABLE = 1u << 31;
constexpr std::uint32_t kMaxConns = (REG_BAR_SIZE - REG_SQ_DOORBELL) / REG_SQ_DOORBELL_STRIDE;
constexpr std::uint32_t kMaxVectors = 64;

constexpr std::uint64_t reg_cq(unsigned vector, std::uint64_t reg) {
  return REG_CQ_BLOCK + vector * REG_CQ_STRIDE + reg;
}
constexpr std::uint64_t reg_sq_doorbell(unsigned cid) {
  return REG_SQ_DOORBELL + static_cast<std::uint64_t>(cid) * REG_SQ_DOORBELL_STRIDE;
}

}  // namespace qedisim::hsi
