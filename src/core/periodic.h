#pragma once
// Periodic: runs a task on its own thread now and then every `interval` until destroyed
// (background jobs of `herald serve`: retention, audit checkpoints). The destructor wakes the
// thread and joins it; a task already running finishes first.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/time.h"

namespace herald {

class Periodic {
 public:
  Periodic(std::string name, Duration interval, std::function<void()> task);
  ~Periodic();
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace herald
