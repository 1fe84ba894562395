// A SCSI command as the LLD sees it (struct scsi_cmnd, reduced), and the
// scsi_done callback that hands it back to the submitter.
#pragma once

#include <cstdint>

namespace qedisim::scsi {

// Host byte of scmd->result (include/scsi/scsi.h).
enum HostByte : std::uint8_t { DID_OK = 0x00, DID_NO_CONNECT = 0x01, DID_ABORT = 0x05, DID_ERROR = 0x07 };

struct ScsiCmnd {
  std::uint32_t session = 0;
  std::uint32_t lun = 0;
  bool write = false;
  std::uint32_t length = 4096;  // bytes
  unsigned cpu = 0;             // submitting CPU (blk-mq hw queue)
  std::uint32_t stream = 0;     // workload entry
  std::uint64_t op = 0;         // index within the stream
  std::uint8_t host_byte = DID_OK;
  std::uint8_t status = 0;      // SAM status
  bool succeeded() const { return host_byte == DID_OK && status == 0; }
};

class ScsiDone {
 public:
  virtual ~ScsiDone() = default;
  // scsi_done: the command is finished and back with its submitter.
  virtual void scsi_done(ScsiCmnd* cmd) = 0;
};

}  // namespace qedisim::scsi
