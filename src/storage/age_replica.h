// AgeReplica: a ReplicaClient decorator that age-encrypts every file it
// writes and decrypts every file it reads (docs/encryption.md). Files are
// standard age v1 files (X25519 recipients), so the age command decrypts
// them. Listings report plaintext sizes, and ranged reads fetch and decrypt
// only the 64 KiB chunks that cover the range, so callers see the same bytes
// and sizes as on a plain replica.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "base/age.h"
#include "storage/forwarding_client.h"

namespace litekeep::storage {

class AgeReplica : public ForwardingReplicaClient {
 public:
  // recipients: what writes encrypt to (none: writes are refused).
  // identities: what reads decrypt with (none: reads are refused).
  AgeReplica(std::shared_ptr<ReplicaClient> inner,
             std::vector<base::AgeRecipient> recipients,
             std::vector<base::AgeIdentity> identities);

  // Sizes are the plaintext sizes of files written with this replica's
  // number of recipients (one when it has none), or exact ones with
  // SetExactSizes: see docs/encryption.md.
  Result<std::vector<FileInfo>> ListFiles(int level) override;
  // A whole file (offset 0, length < 0) is decrypted as it streams. A range
  // reads the file's age header once (one ranged GET of its first 4 KiB,
  // kept for later ranges of the same file), then one ranged GET of the
  // sealed chunks that cover the range, each authenticated before any of
  // its bytes is returned. Errors name the file ("ltx/<level>/<name>").
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override;
  base::Status WriteFile(const FileInfo& info, base::Reader& data) override;
  // Encrypted as WriteFile, fenced by the backend.
  base::Status WriteFileFenced(const FileInfo& info, base::Reader& data,
                               const PublishFence& fence) override;
  // Decrypts the object (Litestream 0.3 encrypts its snapshots and WAL
  // segments the same way).
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override;
  // Everything else passes on as stored: deletes, object listings
  // (ciphertext sizes), control objects such as the replica lease (they
  // hold no database content; docs/encryption.md), created times.

  // From now on ListFiles reads the age header of every file it has not
  // seen (one 4 KiB ranged GET each, 16 at a time) and reports its exact
  // plaintext size, whatever number of recipients it was written to; the
  // header then serves ranged reads. For readers that address files by
  // plaintext offsets from the listing (the VFS). A header no identity
  // opens fails the listing, naming the file.
  void SetExactSizes(bool on);

  // Stored size of a file of n plaintext bytes written to k recipients.
  static int64_t EncryptedSize(int64_t n, size_t k);
  // Plaintext size of a stored file of s bytes written to k recipients (-1
  // when no plaintext size gives s).
  static int64_t PlaintextSize(int64_t s, size_t k);

 private:
  using FileKey = std::tuple<int, TxId, TxId>;
  // What one file's header said, for the stored size it had then.
  struct Header {
    int64_t stored_size = -1;  // -1: unknown (learned from a whole read)
    std::shared_ptr<const base::AgePayload> payload;
  };

  Result<std::unique_ptr<base::Reader>> Decrypt(
      std::unique_ptr<base::Reader> in, const std::string& name, int64_t offset,
      int64_t length, std::shared_ptr<const base::AgePayload>* payload);
  base::Status NeedIdentity(const std::string& name) const;
  base::Status Write(const FileInfo& info, base::Reader& data,
                     const PublishFence* fence);
  // The file's header: remembered, or read by a ranged GET of its start.
  Result<std::shared_ptr<const base::AgePayload>> PayloadOf(const FileKey& key,
                                                            int64_t stored_size,
                                                            bool fresh);
  // Plaintext [offset, offset + length) of a file, length > 0, from the
  // chunks that cover it.
  Result<std::vector<uint8_t>> ReadChunks(const FileKey& key,
                                          const base::AgePayload& payload,
                                          int64_t offset, int64_t length);

  std::vector<base::AgeRecipient> recipients_;
  std::vector<base::AgeIdentity> identities_;

  std::mutex mu_;
  bool exact_sizes_ = false;
  std::map<FileKey, Header> headers_;
};

}  // namespace litekeep::storage
