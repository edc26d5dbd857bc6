#pragma once
#include "CoreMinimal.h"

struct FSubsystemCollectionBase {};
class UGameInstanceSubsystem : public UObject {
 public:
  virtual void Initialize(FSubsystemCollectionBase &) {}
  virtual void Deinitialize() {}
};
