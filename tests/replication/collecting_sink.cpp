#include "replication/collecting_sink.hpp"

namespace vil::cdc::test {

Values values_of(const pgoutput::TupleView& tuple) {
  Values out;
  for (const auto& column : tuple) {
    if (column.is_null())
      out.emplace_back("<null>");
    else if (column.is_unchanged_toast())
      out.emplace_back("<toast>");
    else
      out.emplace_back(column.text());
  }
  return out;
}

void CollectingSink::on_change(const Change& change) {
  Record r;
  r.kind = change.kind;
  if (change.relation) r.table = change.relation->qualified_name;
  for (const auto* rel : change.truncated) {
    if (!r.table.empty()) r.table += ',';
    r.table += rel->qualified_name;
  }
  r.xid = change.xid;
  r.commit_lsn = change.commit_lsn.value;
  r.lsn = change.lsn.value;
  r.ordinal = change.ordinal;
  r.sequence = change.sequence;
  r.old_kind = static_cast<char>(change.old_kind);
  if (change.old_kind != pgoutput::OldTuple::None) r.old_values = values_of(change.old_tuple);
  if (change.kind == ChangeKind::Insert || change.kind == ChangeKind::Update ||
      change.kind == ChangeKind::Read) {
    r.new_values = values_of(change.new_tuple);
  }
  r.prefix = std::string(change.prefix);
  r.content.assign(reinterpret_cast<const char*>(change.content.data()), change.content.size());
  r.transactional = change.transactional;
  r.cascade = change.cascade;
  r.restart_identity = change.restart_identity;
  {
    std::lock_guard lock(mutex_);
    records_.push_back(r);
  }
  changed_.notify_all();
  if (hook) hook(r);
}

void CollectingSink::on_commit(const TransactionEnd&) {
  {
    std::lock_guard lock(mutex_);
    ++commits_;
  }
  changed_.notify_all();
}

std::vector<Record> CollectingSink::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

size_t CollectingSink::size() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

size_t CollectingSink::commits() const {
  std::lock_guard lock(mutex_);
  return commits_;
}

bool CollectingSink::wait_for(size_t n, std::chrono::seconds deadline) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, deadline, [&] { return records_.size() >= n; });
}

bool CollectingSink::wait_for_commits(size_t n, std::chrono::seconds deadline) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, deadline, [&] { return commits_ >= n; });
}

TriggerThread::TriggerThread(CdcTrigger& trigger, core::EventCallback events) : trigger_(trigger) {
  thread_ = std::thread([this, events = std::move(events)] {
    auto result = trigger_.run(events);
    {
      std::lock_guard lock(mutex_);
      result_ = std::move(result);
    }
    done_cv_.notify_all();
  });
}

TriggerThread::~TriggerThread() {
  if (thread_.joinable()) stop();
}

std::expected<void, CdcFault> TriggerThread::stop() {
  // stop() before start() registered its run does nothing, so it is asked
  // again until start() returned.
  std::unique_lock lock(mutex_);
  while (!result_) {
    lock.unlock();
    (void)trigger_.stop();
    lock.lock();
    done_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return result_.has_value(); });
  }
  lock.unlock();
  if (thread_.joinable()) thread_.join();
  return *result_;
}

std::optional<std::expected<void, CdcFault>> TriggerThread::join(std::chrono::seconds deadline) {
  std::unique_lock lock(mutex_);
  if (!done_cv_.wait_for(lock, deadline, [&] { return result_.has_value(); })) return std::nullopt;
  lock.unlock();
  thread_.join();
  return result_;
}

std::map<int, std::string> apply_by_key(const std::vector<Record>& records,
                                        const std::string& table) {
  std::map<int, std::string> out;
  for (const Record& r : records) {
    // A truncate names its tables joined by ','.
    const bool truncated = r.kind == ChangeKind::Truncate &&
                           ("," + r.table + ",").find("," + table + ",") != std::string::npos;
    if (r.table != table && !truncated) continue;
    switch (r.kind) {
      case ChangeKind::Read:
      case ChangeKind::Insert:
        out[std::stoi(r.new_values[0])] = r.new_values[1];
        break;
      case ChangeKind::Update:
        if (!r.old_values.empty()) out.erase(std::stoi(r.old_values[0]));
        out[std::stoi(r.new_values[0])] = r.new_values[1];
        break;
      case ChangeKind::Delete:
        out.erase(std::stoi(r.old_values[0]));
        break;
      case ChangeKind::Truncate:
        out.clear();
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace vil::cdc::test
