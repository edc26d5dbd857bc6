#pragma once
#include "CoreMinimal.h"
class IModuleInterface {
 public:
  virtual ~IModuleInterface() = default;
  virtual void StartupModule() {}
  virtual void ShutdownModule() {}
};
IModuleInterface &GsmsStubModule();
struct FModuleManager {
  template <typename T> static T &GetModuleChecked(const TCHAR *) { return static_cast<T &>(GsmsStubModule()); }
};
#define IMPLEMENT_MODULE(Class, Name) \
  IModuleInterface &GsmsStubModule() { static Class Instance; return Instance; }
