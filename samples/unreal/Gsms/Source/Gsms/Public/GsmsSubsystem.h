// UGsmsSubsystem: one libgsms client per game instance. Blueprint-callable allocation with Queued
// progress and completion events; callbacks are dispatched on the game thread from an FTSTicker.
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "Subsystems/GameInstanceSubsystem.h"

#include "GsmsSubsystem.generated.h"

struct gsms_client;
struct gsms_operation;
struct gsms_cluster_result;

UENUM(BlueprintType)
enum class EGsmsFulfillmentState : uint8
{
	Unknown,
	Fulfilled,
	Queued,
	Aborted
};

USTRUCT(BlueprintType)
struct GSMS_API FGsmsPortMapping
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	FString Name;

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	int32 InternalPort = 0;

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	int32 ExternalPort = 0;
};

/** A copy of a gsms_cluster_result: where to connect, or why not. */
USTRUCT(BlueprintType)
struct GSMS_API FGsmsAllocation
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	EGsmsFulfillmentState State = EGsmsFulfillmentState::Unknown;

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	FString HostName;

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	FString Region;

	/** External port of the "GameData" mapping (0 if none): connect to HostName:GameDataPort. */
	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	int32 GameDataPort = 0;

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	TArray<FGsmsPortMapping> Ports;

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	int32 PollIntervalMs = 0;

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	int32 Attempts = 0;

	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	int32 HttpStatus = 0;

	/** Quote it to support. */
	UPROPERTY(BlueprintReadOnly, Category = "GSMS")
	FString CorrelationId;
};

DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FGsmsAllocationProgress, int32, RequestId, const FGsmsAllocation&, Queued);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_FourParams(FGsmsAllocationCompleted, int32, RequestId, bool, bSuccess, const FGsmsAllocation&, Allocation, const FString&, Error);

/**
 * Owns a gsms_client for the game instance's lifetime. Settings come from DefaultGame.ini
 * ([/Script/Gsms.GsmsSubsystem] BaseUrl=..., AuthToken=...), overridden by the environment
 * variables GSMS_BASE_URL and GSMS_TOKEN.
 */
UCLASS(Config = Game)
class GSMS_API UGsmsSubsystem : public UGameInstanceSubsystem
{
	GENERATED_BODY()

public:
	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	/**
	 * Starts an allocation for an MPSD session path ("/serviceconfigs/<scid>/sessionTemplates/<t>/sessions/<name>").
	 * Returns a request id (> 0); OnAllocationProgress fires for each Queued answer and
	 * OnAllocationCompleted exactly once, both on the game thread. Returns 0 if the call could not
	 * start (bad argument, no client): LastError says why, and no event fires.
	 */
	UFUNCTION(BlueprintCallable, Category = "GSMS")
	int32 AllocateServer(int64 TitleId, const FString& SessionId, int32 DeadlineMs = 60000);

	/** As AllocateServer, with the session path built (and checked) from its parts. */
	UFUNCTION(BlueprintCallable, Category = "GSMS")
	int32 AllocateServerForSession(int64 TitleId, const FString& Scid, const FString& TemplateName, const FString& SessionName, int32 DeadlineMs = 60000);

	/** Its completion then fires with bSuccess false ("GSMS_ERR_CANCELLED"). False for an unknown id. */
	UFUNCTION(BlueprintCallable, Category = "GSMS")
	bool CancelAllocation(int32 RequestId);

	/** Replaces the Authorization value ("XBL3.0 x=<userhash>;<token>") for later requests. */
	UFUNCTION(BlueprintCallable, Category = "GSMS")
	bool SetAuthToken(const FString& Authorization);

	UFUNCTION(BlueprintPure, Category = "GSMS")
	FString GetLastError() const { return LastError; }

	UPROPERTY(BlueprintAssignable, Category = "GSMS")
	FGsmsAllocationProgress OnAllocationProgress;

	UPROPERTY(BlueprintAssignable, Category = "GSMS")
	FGsmsAllocationCompleted OnAllocationCompleted;

	UPROPERTY(Config, EditAnywhere, Category = "GSMS")
	FString BaseUrl = TEXT("https://gameserverms.xboxlive.com");

	UPROPERTY(Config, EditAnywhere, Category = "GSMS")
	FString AuthToken;

private:
	int32 Start(int64 TitleId, const FString& SessionId, const FString& Scid, const FString& TemplateName,
		const FString& SessionName, int32 DeadlineMs);
	bool Tick(float DeltaTime);

	static FGsmsAllocation ToAllocation(const gsms_cluster_result* Result);

	// Called by the C callbacks (GsmsSubsystem.cpp), inside gsms_client_dispatch on the game thread.
	friend struct FGsmsCallbacks;
	void HandleProgress(int32 RequestId, const gsms_cluster_result* Queued);
	void HandleDone(int32 RequestId, uint32 Status, const gsms_cluster_result* Result);

	gsms_client* Client = nullptr;
	FTSTicker::FDelegateHandle TickHandle;
	TMap<int32, gsms_operation*> Operations;
	int32 NextRequestId = 1;
	bool bShuttingDown = false;
	FString LastError;
};
