#pragma once
// A bounded set of recently seen ids: the oldest id is forgotten first once `capacity` is
// reached. Duplicates on Kafka arrive close to their original, so recent ids suffice.
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

namespace tenant::consumers::detail {

class seen_ids {
 public:
  explicit seen_ids(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  /// True when `id` was not in the set (and is now); false for a duplicate.
  bool insert(std::string_view id) {
    std::string key(id);
    if (set_.contains(key)) return false;
    if (order_.size() >= capacity_) {
      set_.erase(order_.front());
      order_.pop_front();
    }
    set_.insert(key);
    order_.push_back(std::move(key));
    return true;
  }

  std::size_t size() const { return order_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_set<std::string> set_;
  std::deque<std::string> order_;
};

}  // namespace tenant::consumers::detail
