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

// g++ says __SANITIZE_ADDRESS__ under -fsanitize=address; clang (before 17) only __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define SEER_FRAME_POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEER_FRAME_POOL_OFF 1
#endif
#endif

namespace seer::sim::detail {

class FramePool {
 public:
  static constexpr std::size_t kGranule = 64;  // frames are rounded up to a multiple of this
  static constexpr std::size_t kClasses = 32;  // larger than kGranule * kClasses: operator new

// Unsized ::operator delete throughout: clang declares the sized one only with
// -fsized-deallocation.
#if defined(SEER_FRAME_POOL_OFF)
  static void* allocate(std::size_t size) {
    return ::operator new(size);
  }
  static void deallocate(void* p, std::size_t /*size*/) noexcept {
    ::operator delete(p);
  }
#else
  static void* allocate(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c < kClasses && lists_[c]) [[likely]] {
      Block* block = lists_[c];
      lists_[c] = block->next;
      return block;
    }
    return allocate_slow(size);
  }

  static void deallocate(void* p, std::size_t size) noexcept {
    // A list is empty once its thread began to exit (release_all), so a non-empty one is open.
    const std::size_t c = size_class(size);
    if (c < kClasses && lists_[c]) [[likely]] {
      auto* block = static_cast<Block*>(p);
      block->next = lists_[c];
      lists_[c] = block;
      return;
    }
    deallocate_slow(p, size);
  }
#endif

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

  // An empty list (or a size no list holds): a new block, from operator new.
  [[gnu::noinline]] static void* allocate_slow(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c >= kClasses) return ::operator new(size);
    arrange_release();
    return ::operator new((c + 1) * kGranule);
  }
  [[gnu::noinline]] static void deallocate_slow(void* p, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    if (c >= kClasses) {
      ::operator delete(p);
      return;
    }
    if (closed_) {  // the thread is exiting: a frame destroyed after its lists were released
      ::operator delete(p);
      return;
    }
    arrange_release();  // a thread that only frees frames gives them back at its exit too
    auto* block = static_cast<Block*>(p);
    block->next = lists_[c];
    lists_[c] = block;
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
