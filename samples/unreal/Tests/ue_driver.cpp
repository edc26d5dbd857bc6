// Drives UGsmsSubsystem (compiled against ue_stubs/, not Unreal) as a game instance would:
// Initialize, a Blueprint-style AllocateServerForSession with progress and completion events,
// one FTSTicker tick per frame, a bad argument, a cancel, and Deinitialize with an allocation in
// flight (which must broadcast nothing and free everything: run it under AddressSanitizer).
//   GSMS_BASE_URL=http://127.0.0.1:PORT ue_driver <title id whose only server is busy>
#include <chrono>
#include <thread>

#include "GsmsSubsystem.h"
#include "Modules/ModuleManager.h"

static int Failures = 0;
#define EXPECT(cond)                                                 \
  do {                                                               \
    if (!(cond)) {                                                   \
      std::printf("unreal: FAILED line %d: %s\n", __LINE__, #cond);  \
      ++Failures;                                                    \
    }                                                                \
  } while (0)

template <typename F>
static bool TickUntil(F Done, int TimeoutMs) {
  const auto End = std::chrono::steady_clock::now() + std::chrono::milliseconds(TimeoutMs);
  while (!Done()) {
    if (std::chrono::steady_clock::now() > End) return false;
    FTSTicker::GetCoreTicker().Tick(0.016f);  // one frame
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }
  return true;
}

int main(int argc, char **argv) {
  const int64 Title = argc > 1 ? std::atoll(argv[1]) : 123;
  GsmsStubModule().StartupModule();
  {
    UGsmsSubsystem Subsystem;
    Subsystem.AuthToken = TEXT("XBL3.0 x=dev;dev-token");  // as from DefaultGame.ini; GSMS_TOKEN overrides
    FSubsystemCollectionBase Collection;
    Subsystem.Initialize(Collection);
    EXPECT(Subsystem.GetLastError().IsEmpty());
    EXPECT(FTSTicker::GetCoreTicker().Count() == 1);

    int Progress = 0, Completions = 0;
    bool bLastSuccess = false;
    FGsmsAllocation Last;
    Subsystem.OnAllocationProgress.AddLambda([&](int32 Id, const FGsmsAllocation &Queued) {
      ++Progress;
      std::printf("unreal: request %d Queued (%d requests so far)\n", Id, Queued.Attempts);
    });
    Subsystem.OnAllocationCompleted.AddLambda([&](int32 Id, bool bSuccess, const FGsmsAllocation &A, const FString &Error) {
      ++Completions;
      bLastSuccess = bSuccess;
      Last = A;
      if (bSuccess)
        std::printf("unreal: request %d Fulfilled: %s:%d (%s)\n", Id, *A.HostName, A.GameDataPort, *A.Region);
      else
        std::printf("unreal: request %d failed: %s\n", Id, *Error);
    });

    // A bad argument: no request id, a reason, and no event.
    EXPECT(Subsystem.AllocateServerForSession(Title, TEXT("scid"), TEXT("quick"), TEXT("has/slash"), 1000) == 0);
    EXPECT(Subsystem.GetLastError().StartsWith(TEXT("GSMS_ERR_INVALID_ARGUMENT")));
    std::printf("unreal: bad argument rejected: %s\n", *Subsystem.GetLastError());

    const int32 Id = Subsystem.AllocateServerForSession(Title, TEXT("00000000-0000-0000-0000-000000000000"),
                                                        TEXT("quick"), TEXT("unreal-sample"), 30000);
    EXPECT(Id > 0);
    EXPECT(Completions == 0);  // never inside the start call
    EXPECT(TickUntil([&] { return Completions == 1; }, 15000));
    EXPECT(bLastSuccess && Last.State == EGsmsFulfillmentState::Fulfilled && Last.GameDataPort > 0);
    EXPECT(Progress >= 1);

    // Cancel: the completion comes at a later tick, unsuccessful.
    const int32 Id2 = Subsystem.AllocateServerForSession(Title, TEXT("00000000-0000-0000-0000-000000000000"),
                                                         TEXT("quick"), TEXT("unreal-cancelled"), 30000);
    EXPECT(Id2 > 0 && Subsystem.CancelAllocation(Id2));
    EXPECT(TickUntil([&] { return Completions == 2; }, 3000));
    EXPECT(!bLastSuccess);
    EXPECT(!Subsystem.CancelAllocation(Id2));  // forgotten once completed

    // Deinitialize with an allocation in flight: cancelled, freed, no event.
    EXPECT(Subsystem.AllocateServerForSession(Title, TEXT("00000000-0000-0000-0000-000000000000"), TEXT("quick"),
                                              TEXT("unreal-in-flight"), 30000) > 0);
    FTSTicker::GetCoreTicker().Tick(0.016f);
    Subsystem.Deinitialize();
    EXPECT(Completions == 2);
    EXPECT(FTSTicker::GetCoreTicker().Count() == 0);
    std::printf("unreal: deinitialized with an allocation in flight: %d events after it\n", Completions - 2);
  }
  GsmsStubModule().ShutdownModule();
  std::printf("unreal: %s\n", Failures == 0 ? "all checks passed" : "FAILED");
  return Failures == 0 ? 0 : 1;
}
