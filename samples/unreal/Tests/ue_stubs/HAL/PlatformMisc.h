#pragma once
#include "CoreMinimal.h"
struct FPlatformMisc {
  static FString GetEnvironmentVariable(const TCHAR *name) { return FString(UTF8_TO_TCHAR(std::getenv(TCHAR_TO_UTF8(name)))); }
};
