#include "core/periodic.h"

#include "core/thread_name.h"

namespace herald {

Periodic::Periodic(std::string name, Duration interval, std::function<void()> task) {
  thread_ = std::thread([this, name = std::move(name), interval, task = std::move(task)] {
    set_thread_name(name);
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      task();
      lock.lock();
      wake_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

Periodic::~Periodic() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

}  // namespace herald
