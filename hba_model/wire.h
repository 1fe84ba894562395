// The TCP connections between the HBA's offloaded iSCSI connections and the
// remote target, reduced to PDU delivery. No wire latency: the target's
// service time (target.latency) stands for the round trip.
#pragma once

#include <cstdint>

namespace qedisim::hba {

// One iSCSI PDU header as it crosses the wire (RFC 3720 BHS, the fields the
// model uses). `cid` names the connection it travels on.
struct IscsiPdu {
  std::uint16_t cid = 0;
  std::uint8_t opcode = 0;       // hsi::IscsiOpcode
  std::uint8_t function = 0;     // TMF request: hsi::IscsiTmFunc
  std::uint8_t response = 0;     // responses: iSCSI / TMF response code
  std::uint8_t scsi_status = 0;  // SCSI response: SAM status
  std::uint8_t flags = 0;        // SCSI command: hsi::TASK_FLAG_READ / _WRITE
  std::uint32_t itt = 0;         // qedi_set_itt(tid, itt) or ISCSI_RESERVED_TAG
  std::uint32_t rtt = 0;         // TMF: referenced task tag
  std::uint32_t ttt = 0;
  std::uint32_t data_length = 0;
  std::uint64_t lun = 0;
};

// Firmware -> target.
class TargetPort {
 public:
  virtual ~TargetPort() = default;
  // The firmware offloaded connection `cid` towards target portal `portal`
  // (one portal per scenario session).
  virtual void tcp_connect(std::uint16_t cid, std::uint32_t portal) = 0;
  // destroy_conn: FIN (graceful) or RST (abortive); the target forgets the
  // connection's outstanding tasks either way.
  virtual void tcp_close(std::uint16_t cid, bool abortive) = 0;
  virtual void pdu_to_target(const IscsiPdu& pdu) = 0;
};

// Target -> firmware.
class InitiatorPort {
 public:
  virtual ~InitiatorPort() = default;
  virtual void pdu_to_initiator(const IscsiPdu& pdu) = 0;
};

}  // namespace qedisim::hba
