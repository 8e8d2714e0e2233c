// AgeReplica: a ReplicaClient decorator that age-encrypts every file it
// writes and decrypts every file it reads (docs/encryption.md). Files are
// standard age v1 files (X25519 recipients), so the age command decrypts
// them. Listings report plaintext sizes, and ranged reads decrypt from the
// start and skip, so callers see the same bytes and sizes as on a plain
// replica.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/age.h"
#include "storage/replica_client.h"

namespace litekeep::storage {

class AgeReplica : public ReplicaClient {
 public:
  // recipients: what writes encrypt to (none: writes are refused).
  // identities: what reads decrypt with (none: reads are refused).
  AgeReplica(std::shared_ptr<ReplicaClient> inner,
             std::vector<base::AgeRecipient> recipients,
             std::vector<base::AgeIdentity> identities);

  std::string Type() const override { return inner_->Type(); }
  std::string Describe() const override { return inner_->Describe(); }

  // Sizes are the plaintext sizes of files written with this replica's
  // number of recipients (one when it has none): see docs/encryption.md.
  Result<std::vector<FileInfo>> ListFiles(int level) override;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override;
  base::Status WriteFile(const FileInfo& info, base::Reader& data) override;
  base::Status DeleteFiles(const std::vector<FileInfo>& files) override;
  base::Status DeleteAll() override { return inner_->DeleteAll(); }
  // Objects are listed as stored (ciphertext sizes).
  Result<std::vector<ObjectInfo>> ListObjects(
      const std::string& prefix) override {
    return inner_->ListObjects(prefix);
  }
  // Decrypts the object (Litestream 0.3 encrypts its snapshots and WAL
  // segments the same way).
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override;
  // Control objects (the replica lease) are stored as they are: they hold
  // no database content (docs/encryption.md).
  Result<VersionedObject> ReadVersioned(const std::string& key) override {
    return inner_->ReadVersioned(key);
  }
  Result<std::string> WriteIf(const std::string& key, const std::string& data,
                              const std::string& if_version) override {
    return inner_->WriteIf(key, data, if_version);
  }
  RequestCounts request_counts() const override {
    return inner_->request_counts();
  }
  void SetCreatedTimes(CreatedTimes times) override {
    inner_->SetCreatedTimes(times);
  }
  Result<TimePoint> CreatedTime(const FileInfo& file) override {
    return inner_->CreatedTime(file);
  }

  // Stored size of a file of n plaintext bytes written to k recipients.
  static int64_t EncryptedSize(int64_t n, size_t k);
  // Plaintext size of a stored file of s bytes written to k recipients (-1
  // when no plaintext size gives s).
  static int64_t PlaintextSize(int64_t s, size_t k);

 private:
  Result<std::unique_ptr<base::Reader>> Decrypt(
      std::unique_ptr<base::Reader> in, const std::string& name, int64_t offset,
      int64_t length);

  std::shared_ptr<ReplicaClient> inner_;
  std::vector<base::AgeRecipient> recipients_;
  std::vector<base::AgeIdentity> identities_;
};

}  // namespace litekeep::storage
