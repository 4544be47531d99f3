#pragma once
// Counts calls to operator new while an AllocationCounter lives: decoding a
// change must not allocate (docs/DESIGN.md §1). The replacement operators are in
// allocation_counter.cpp, a translation unit of their own.

namespace vil::pgoutput::testing {

class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;

  [[nodiscard]] long count() const;
};

}  // namespace vil::pgoutput::testing
