// Where Task coroutine frames come from: a free list per thread and size class, in front of
// operator new. A simulated run creates and destroys a frame per call of every coroutine (a KV
// call, a partition read, a server's request); reusing the last frame of a size skips the
// allocator's bookkeeping on each (a pop and a push instead of a malloc and a free).
//
// Per thread, so no locks: a frame freed on another thread than the one that made it simply joins
// that thread's list. Blocks go back to operator delete when their thread exits. Which addresses
// frames get changes nothing a run does (no order depends on them), so runs stay deterministic.
// Under AddressSanitizer frames come from operator new directly, so that a use of a destroyed
// frame is still caught.
#pragma once

#include <cstddef>
#include <new>

namespace seer::sim::detail {

class FramePool {
 public:
  static constexpr std::size_t kGranule = 64;  // frames are rounded up to a multiple of this
  static constexpr std::size_t kClasses = 32;  // larger than kGranule * kClasses: operator new

  static void* allocate(std::size_t size) {
#if !defined(__SANITIZE_ADDRESS__)
    const std::size_t c = size_class(size);
    if (c < kClasses) {
      if (Block* block = lists_[c]) {
        lists_[c] = block->next;
        return block;
      }
      return fresh(c);
    }
#endif
    return ::operator new(size);
  }

  static void deallocate(void* p, std::size_t size) noexcept {
#if !defined(__SANITIZE_ADDRESS__)
    const std::size_t c = size_class(size);
    if (c < kClasses) {
      if (closed_) [[unlikely]] {
        ::operator delete(p);
        return;
      }
      if (!lists_[c]) [[unlikely]] {
        arrange_release();  // a thread that only frees frames gives them back at its exit too
      }
      auto* block = static_cast<Block*>(p);
      block->next = lists_[c];
      lists_[c] = block;
      return;
    }
#endif
    ::operator delete(p, size);
  }

 private:
  struct Block {
    Block* next;
  };
  struct Release {
    ~Release() { release_all(); }
  };
  static std::size_t size_class(std::size_t size) {
    return (size - 1) / kGranule;
  }

  [[gnu::noinline]] static void* fresh(std::size_t c) {
    arrange_release();
    return ::operator new((c + 1) * kGranule);
  }
  // The thread's lists go back to operator delete when it exits (a thread-local's destructor,
  // registered the first time this runs on the thread).
  [[gnu::noinline]] static void arrange_release() noexcept {
    static thread_local Release release;
  }
  static void release_all() noexcept {
    closed_ = true;  // a frame destroyed later in the thread's exit goes to operator delete
    for (auto*& list : lists_) {
      while (Block* block = list) {
        list = block->next;
        ::operator delete(block);
      }
    }
  }

  // Plain thread-locals (zero-initialised, no constructor): the hot path reads them directly.
  static inline thread_local Block* lists_[kClasses] = {};
  static inline thread_local bool closed_ = false;
};

}  // namespace seer::sim::detail
