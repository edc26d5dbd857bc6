#include "GsmsSubsystem.h"

#include "HAL/PlatformMisc.h"
#include "Misc/ScopeExit.h"

#include "gsms.h"

DEFINE_LOG_CATEGORY_STATIC(LogGsms, Log, All);

bool GsmsIsLibraryLoaded();  // GsmsModule.cpp

namespace
{
	/** Heap state of one allocation: freed in OnDone, which the library calls exactly once. */
	struct FGsmsCall
	{
		TWeakObjectPtr<UGsmsSubsystem> Owner;
		int32 RequestId = 0;
	};

	FString Utf8ToString(const char* Text)
	{
		return Text ? FString(UTF8_TO_TCHAR(Text)) : FString();
	}

	/** Right after a failed call (bFromCall) the thread's last error says why; in a callback, the result does. */
	FString DescribeFailure(gsms_status Status, const gsms_cluster_result* Result, bool bFromCall)
	{
		// The thread's last error first: a later gsms call may replace it.
		const FString LastError = bFromCall ? Utf8ToString(gsms_last_error_message()) : FString();
		FString Message = Result ? Utf8ToString(gsms_cluster_result_error_message(Result)) : FString();
		if (Message.IsEmpty())
		{
			Message = LastError;
		}
		FString Text = Utf8ToString(gsms_status_name(Status));
		if (!Message.IsEmpty())
		{
			Text += TEXT(": ") + Message;
		}
		if (Result && gsms_cluster_result_http_status(Result) != 0)
		{
			Text += FString::Printf(TEXT(" (HTTP %u, correlation id %s)"), (uint32)gsms_cluster_result_http_status(Result),
				*Utf8ToString(gsms_cluster_result_correlation_id(Result)));
		}
		return Text;
	}

	void OnLog(void* /*UserData*/, gsms_log_level Level, const char* Message)
	{
		// Any library thread; UE_LOG is thread-safe.
		if (Level <= GSMS_LOG_WARN)
		{
			UE_LOG(LogGsms, Warning, TEXT("%s"), *Utf8ToString(Message));
		}
		else
		{
			UE_LOG(LogGsms, Verbose, TEXT("%s"), *Utf8ToString(Message));
		}
	}
}

/** The C callbacks: static, matching gsms_progress_callback and gsms_cluster_callback. */
struct FGsmsCallbacks
{
	static void OnProgress(void* UserData, const gsms_cluster_result* Queued)
	{
		FGsmsCall* Call = static_cast<FGsmsCall*>(UserData);
		if (UGsmsSubsystem* Owner = Call->Owner.Get())
		{
			Owner->HandleProgress(Call->RequestId, Queued);
		}
	}

	static void OnDone(void* UserData, gsms_status Status, const gsms_cluster_result* Result)
	{
		TUniquePtr<FGsmsCall> Call(static_cast<FGsmsCall*>(UserData));
		if (UGsmsSubsystem* Owner = Call->Owner.Get())
		{
			Owner->HandleDone(Call->RequestId, static_cast<uint32>(Status), Result);
		}
	}
};

void UGsmsSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	if (!GsmsIsLibraryLoaded())
	{
		LastError = TEXT("libgsms is not loaded");
		return;
	}

	const FString EnvUrl = FPlatformMisc::GetEnvironmentVariable(TEXT("GSMS_BASE_URL"));
	const FString EnvToken = FPlatformMisc::GetEnvironmentVariable(TEXT("GSMS_TOKEN"));
	const FString Url = EnvUrl.IsEmpty() ? BaseUrl : EnvUrl;
	const FString Token = EnvToken.IsEmpty() ? AuthToken : EnvToken;

	gsms_config* Config = gsms_config_new();
	ON_SCOPE_EXIT { gsms_config_free(Config); };  // the client keeps its own copy
	gsms_status Status = gsms_config_set_base_url(Config, TCHAR_TO_UTF8(*Url));
	if (Status == GSMS_OK && !Token.IsEmpty())
	{
		Status = gsms_config_set_auth_token(Config, TCHAR_TO_UTF8(*Token));
	}
	if (Status == GSMS_OK)
	{
		// Callbacks only inside gsms_client_dispatch, which Tick calls on the game thread.
		Status = gsms_config_set_callback_mode(Config, GSMS_CALLBACKS_ON_DISPATCH);
	}
	if (Status == GSMS_OK)
	{
		Status = gsms_config_set_log_callback(Config, &OnLog, nullptr, GSMS_LOG_INFO);
	}
	if (Status == GSMS_OK)
	{
		Status = gsms_client_new(Config, &Client);
	}
	if (Status != GSMS_OK)
	{
		LastError = DescribeFailure(Status, nullptr, true);
		UE_LOG(LogGsms, Error, TEXT("GSMS client: %s"), *LastError);
		Client = nullptr;
		return;
	}

	TickHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateUObject(this, &UGsmsSubsystem::Tick));
}

void UGsmsSubsystem::Deinitialize()
{
	bShuttingDown = true;  // completions that run below free their state without broadcasting
	if (TickHandle.IsValid())
	{
		FTSTicker::GetCoreTicker().RemoveTicker(TickHandle);
		TickHandle.Reset();
	}
	for (const TPair<int32, gsms_operation*>& Op : Operations)
	{
		gsms_operation_cancel(Op.Value);
	}
	// Runs every outstanding completion here, on the game thread (GSMS_ERR_CANCELLED or
	// GSMS_ERR_SHUTDOWN), freeing each FGsmsCall; no callback runs after it returns.
	gsms_client_free(Client);
	Client = nullptr;
	for (const TPair<int32, gsms_operation*>& Op : Operations)
	{
		gsms_operation_free(Op.Value);
	}
	Operations.Empty();
	Super::Deinitialize();
}

bool UGsmsSubsystem::Tick(float /*DeltaTime*/)
{
	gsms_client_dispatch(Client, 0);  // progress and completions, on the game thread
	return true;  // keep ticking
}

int32 UGsmsSubsystem::AllocateServer(int64 TitleId, const FString& SessionId, int32 DeadlineMs)
{
	return Start(TitleId, SessionId, FString(), FString(), FString(), DeadlineMs);
}

int32 UGsmsSubsystem::AllocateServerForSession(int64 TitleId, const FString& Scid, const FString& TemplateName,
	const FString& SessionName, int32 DeadlineMs)
{
	return Start(TitleId, FString(), Scid, TemplateName, SessionName, DeadlineMs);
}

int32 UGsmsSubsystem::Start(int64 TitleId, const FString& SessionId, const FString& Scid, const FString& TemplateName,
	const FString& SessionName, int32 DeadlineMs)
{
	if (!Client || bShuttingDown)
	{
		LastError = TEXT("no GSMS client");
		return 0;
	}
	if (TitleId < 0 || TitleId > MAX_uint32 || DeadlineMs < 0)
	{
		LastError = TEXT("TitleId must fit in 32 bits and DeadlineMs must not be negative");
		return 0;
	}

	gsms_cluster_request* Request = gsms_cluster_request_new(static_cast<uint32>(TitleId));
	ON_SCOPE_EXIT { gsms_cluster_request_free(Request); };  // the operation keeps its own copy
	gsms_status Status = SessionId.IsEmpty()
		? gsms_cluster_request_set_session(Request, TCHAR_TO_UTF8(*Scid), TCHAR_TO_UTF8(*TemplateName), TCHAR_TO_UTF8(*SessionName))
		: gsms_cluster_request_set_session_id(Request, TCHAR_TO_UTF8(*SessionId));
	if (Status != GSMS_OK)
	{
		LastError = DescribeFailure(Status, nullptr, true);
		return 0;
	}

	const int32 RequestId = NextRequestId++;
	FGsmsCall* Call = new FGsmsCall{this, RequestId};
	gsms_operation* Operation = nullptr;
	Status = gsms_client_allocate_cluster_async(Client, Request, static_cast<uint32>(DeadlineMs),
		&FGsmsCallbacks::OnProgress, &FGsmsCallbacks::OnDone, Call, &Operation);
	if (Status != GSMS_OK)
	{
		delete Call;  // on_done is never called when the start call fails
		LastError = DescribeFailure(Status, nullptr, true);
		return 0;
	}
	Operations.Add(RequestId, Operation);
	return RequestId;
}

bool UGsmsSubsystem::CancelAllocation(int32 RequestId)
{
	gsms_operation** Operation = Operations.Find(RequestId);
	return Operation && gsms_operation_cancel(*Operation) == GSMS_OK;  // completion follows at a later Tick
}

bool UGsmsSubsystem::SetAuthToken(const FString& Authorization)
{
	const gsms_status Status = gsms_client_set_auth_token(Client, TCHAR_TO_UTF8(*Authorization));
	if (Status != GSMS_OK)
	{
		LastError = DescribeFailure(Status, nullptr, true);
	}
	return Status == GSMS_OK;
}

FGsmsAllocation UGsmsSubsystem::ToAllocation(const gsms_cluster_result* Result)
{
	FGsmsAllocation Out;
	if (!Result)
	{
		return Out;
	}
	switch (gsms_cluster_result_fulfillment_state(Result))
	{
	case GSMS_FULFILLMENT_FULFILLED: Out.State = EGsmsFulfillmentState::Fulfilled; break;
	case GSMS_FULFILLMENT_QUEUED: Out.State = EGsmsFulfillmentState::Queued; break;
	case GSMS_FULFILLMENT_ABORTED: Out.State = EGsmsFulfillmentState::Aborted; break;
	default: Out.State = EGsmsFulfillmentState::Unknown; break;
	}
	Out.HostName = Utf8ToString(gsms_cluster_result_host_name(Result));
	Out.Region = Utf8ToString(gsms_cluster_result_region(Result));
	Out.PollIntervalMs = static_cast<int32>(gsms_cluster_result_poll_interval_ms(Result));
	Out.Attempts = static_cast<int32>(gsms_cluster_result_attempts(Result));
	Out.HttpStatus = gsms_cluster_result_http_status(Result);
	Out.CorrelationId = Utf8ToString(gsms_cluster_result_correlation_id(Result));
	const size_t Count = gsms_cluster_result_port_count(Result);
	for (size_t Index = 0; Index < Count; ++Index)
	{
		const char* Name = nullptr;
		uint32_t Internal = 0, External = 0;
		if (gsms_cluster_result_port(Result, Index, &Name, &Internal, &External) == GSMS_OK)
		{
			FGsmsPortMapping& Port = Out.Ports.AddDefaulted_GetRef();
			Port.Name = Utf8ToString(Name);
			Port.InternalPort = static_cast<int32>(Internal);
			Port.ExternalPort = static_cast<int32>(External);
			if (Port.Name == TEXT("GameData"))
			{
				Out.GameDataPort = Port.ExternalPort;
			}
		}
	}
	return Out;
}

void UGsmsSubsystem::HandleProgress(int32 RequestId, const gsms_cluster_result* Queued)
{
	if (!bShuttingDown)
	{
		OnAllocationProgress.Broadcast(RequestId, ToAllocation(Queued));  // Queued is borrowed: copied here
	}
}

void UGsmsSubsystem::HandleDone(int32 RequestId, uint32 Status, const gsms_cluster_result* Result)
{
	if (bShuttingDown)
	{
		return;  // Deinitialize frees the operation handles
	}
	if (gsms_operation** Operation = Operations.Find(RequestId))
	{
		gsms_operation_free(*Operation);
		Operations.Remove(RequestId);
	}
	const bool bSuccess = Status == GSMS_OK && gsms_cluster_result_fulfillment_state(Result) == GSMS_FULFILLMENT_FULFILLED;
	FString Error;
	if (Status != GSMS_OK)
	{
		Error = DescribeFailure(static_cast<gsms_status>(Status), Result, false);
	}
	else if (!bSuccess)
	{
		Error = TEXT("no server (aborted or unknown state)");
	}
	OnAllocationCompleted.Broadcast(RequestId, bSuccess, ToAllocation(Result), Error);
}
