// An object's name in findings and logs: "s0c0", "s0 itt 0x05",
// "s0 lun1 tag 12". A pooled iSCSI task and a scsi_cmnd are named once per
// command, and their names are mostly never read: those two kinds keep their
// numbers and are formatted on the first read after a change.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace qedisim::kern {

class ObjectName {
 public:
  ObjectName() = default;
  ObjectName(std::string_view text) : text_(text) {}        // NOLINT(google-explicit-constructor): is its text
  ObjectName(const char* text) : text_(text) {}             // NOLINT(google-explicit-constructor)
  ObjectName(std::string text) : text_(std::move(text)) {}  // NOLINT(google-explicit-constructor)
  // libiscsi's task: "s<session> itt 0x<itt>" (fmt's "s{} itt {:#04x}").
  static ObjectName task(std::uint32_t session, std::uint32_t itt) { return ObjectName(Kind::task, session, itt, 0); }
  // scsi-ml's command: "s<session> lun<lun> tag <tag>".
  static ObjectName scsi_cmnd(std::uint32_t session, std::uint32_t lun, std::uint32_t tag) {
    return ObjectName(Kind::scsi_cmnd, session, lun, tag);
  }

  // A copy takes the numbers, or the text of a name given as text; a slot's
  // buffer is kept for the next time its name is formatted.
  ObjectName(const ObjectName& o) : kind_(o.kind_), built_(o.kind_ == Kind::text), n_{o.n_[0], o.n_[1], o.n_[2]} {
    if (o.kind_ == Kind::text) text_ = o.text_;
  }
  ObjectName& operator=(const ObjectName& o) {
    if (this == &o) return *this;
    kind_ = o.kind_;
    n_[0] = o.n_[0];
    n_[1] = o.n_[1];
    n_[2] = o.n_[2];
    if (o.kind_ == Kind::text) {
      if (o.text_.empty())
        text_.clear();
      else
        text_ = o.text_;
      built_ = true;
    } else {
      built_ = false;
    }
    return *this;
  }
  ~ObjectName() = default;

  const std::string& str() const {
    if (!built_) build();
    return text_;
  }
  bool empty() const { return kind_ == Kind::text && text_.empty(); }

  // The same name (as formatted), without formatting either.
  friend bool operator==(const ObjectName& a, const ObjectName& b) {
    if (a.kind_ != b.kind_) return a.str() == b.str();  // rare: compared as formatted
    if (a.kind_ == Kind::text) return a.text_ == b.text_;
    return a.n_[0] == b.n_[0] && a.n_[1] == b.n_[1] && a.n_[2] == b.n_[2];
  }
  friend bool operator!=(const ObjectName& a, const ObjectName& b) { return !(a == b); }

 private:
  enum class Kind : std::uint8_t { text, task, scsi_cmnd };
  ObjectName(Kind k, std::uint32_t a, std::uint32_t b, std::uint32_t c) : kind_(k), built_(false), n_{a, b, c} {}
  void build() const;

  Kind kind_ = Kind::text;
  mutable bool built_ = true;
  std::uint32_t n_[3] = {};
  mutable std::string text_;  // the text, or the numbers formatted once built_
};

}  // namespace qedisim::kern

template <>
struct fmt::formatter<qedisim::kern::ObjectName> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const qedisim::kern::ObjectName& n, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(n.str()), ctx);
  }
};
