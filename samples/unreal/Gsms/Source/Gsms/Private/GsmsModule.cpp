#include "Interfaces/IPluginManager.h"
#include "Misc/Paths.h"
#include "Modules/ModuleManager.h"
#include "HAL/PlatformProcess.h"

#include "gsms.h"

DEFINE_LOG_CATEGORY_STATIC(LogGsmsModule, Log, All);

class FGsmsModule : public IModuleInterface
{
public:
	virtual void StartupModule() override
	{
#if PLATFORM_WINDOWS || PLATFORM_MAC
		// Delay-loaded: load it from the plugin's Binaries folder before the first gsms_ call.
		const FString BaseDir = IPluginManager::Get().FindPlugin(TEXT("Gsms"))->GetBaseDir();
#if PLATFORM_WINDOWS
		const FString Path = FPaths::Combine(BaseDir, TEXT("Binaries/ThirdParty/GsmsLibrary/Win64/gsms.dll"));
#else
		const FString Path = FPaths::Combine(BaseDir, TEXT("Binaries/ThirdParty/GsmsLibrary/Mac/libgsms.dylib"));
#endif
		LibraryHandle = FPlatformProcess::GetDllHandle(*Path);
		if (!LibraryHandle)
		{
			UE_LOG(LogGsmsModule, Error, TEXT("could not load %s"), *Path);
			return;
		}
#endif
		const uint32 Abi = gsms_abi_version();
		if ((Abi >> 16) != GSMS_ABI_MAJOR)
		{
			UE_LOG(LogGsmsModule, Error, TEXT("libgsms ABI %u.%u, built against %d.%d"), Abi >> 16, Abi & 0xFFFF, GSMS_ABI_MAJOR, GSMS_ABI_MINOR);
			return;
		}
		bLibraryOk = true;
		UE_LOG(LogGsmsModule, Log, TEXT("libgsms %s"), UTF8_TO_TCHAR(gsms_version_string()));
	}

	virtual void ShutdownModule() override
	{
		if (LibraryHandle)
		{
			FPlatformProcess::FreeDllHandle(LibraryHandle);
			LibraryHandle = nullptr;
		}
	}

	static bool IsLibraryOk()
	{
		return FModuleManager::GetModuleChecked<FGsmsModule>(TEXT("Gsms")).bLibraryOk;
	}

private:
	void* LibraryHandle = nullptr;
	bool bLibraryOk = false;
};

bool GsmsIsLibraryLoaded()
{
	return FGsmsModule::IsLibraryOk();
}

IMPLEMENT_MODULE(FGsmsModule, Gsms)
