// Level-0 LTX files: header and pages of one transaction.
#include "ltx/l0_builder.h"

namespace litekeep::ltx {

Header L0Header(TxId txid, uint32_t page_size, Pgno commit,
                int64_t timestamp_ms) {
  Header h;
  h.flags = kHeaderFlagNoChecksum;
  h.page_size = page_size;
  h.commit = commit;
  h.min_txid = txid;
  h.max_txid = txid;
  h.timestamp_ms = timestamp_ms;
  return h;
}

Status L0Builder::Begin(const Header& header) {
  return enc_.EncodeHeader(header);
}

Status L0Builder::AddPage(Pgno pgno, std::span<const uint8_t> page) {
  if (pgno == LockPgno(enc_.header().page_size)) return Status::Ok();
  return enc_.EncodePage(pgno, page);
}

Status L0Builder::Finish() { return enc_.Close(0); }

}  // namespace litekeep::ltx
