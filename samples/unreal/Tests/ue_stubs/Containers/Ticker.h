#pragma once
#include "CoreMinimal.h"

using FTickerDelegate_Fn = std::function<bool(float)>;
struct FTickerDelegate {
  template <typename T>
  static FTickerDelegate_Fn CreateUObject(T *obj, bool (T::*fn)(float)) {
    return [obj, fn](float dt) { return (obj->*fn)(dt); };
  }
};

class FTSTicker {
 public:
  struct FDelegateHandle {
    int Id = 0;
    bool IsValid() const { return Id != 0; }
    void Reset() { Id = 0; }
  };
  static FTSTicker &GetCoreTicker() { static FTSTicker t; return t; }
  FDelegateHandle AddTicker(FTickerDelegate_Fn fn) {
    fns_.push_back({++next_, std::move(fn)});
    return FDelegateHandle{next_};
  }
  void RemoveTicker(FDelegateHandle h) {
    for (size_t i = 0; i < fns_.size(); ++i) if (fns_[i].first == h.Id) { fns_.erase(fns_.begin() + static_cast<long>(i)); return; }
  }
  void Tick(float dt) {  // the engine calls this once per frame on the game thread
    auto copy = fns_;
    for (auto &f : copy) f.second(dt);
  }
  size_t Count() const { return fns_.size(); }
 private:
  int next_ = 0;
  std::vector<std::pair<int, FTickerDelegate_Fn>> fns_;
};
