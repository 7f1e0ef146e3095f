#pragma once
// Blocking: whether a call may wait on I/O (a store read). Network threads pass kNotAllowed:
// a call that would then need to wait returns an Error with ErrorCode::kWouldBlock instead,
// having done nothing irreversible, and the caller repeats it on a thread that may block.

namespace herald {

enum class Blocking { kAllowed, kNotAllowed };

}  // namespace herald
