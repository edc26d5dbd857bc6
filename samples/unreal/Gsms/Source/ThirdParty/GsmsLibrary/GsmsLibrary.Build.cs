// The prebuilt libgsms: header and per-platform libraries, staged by ../../../stage_libs.sh:
//   include/gsms.h
//   lib/Win64/gsms.dll, gsms.dll.lib         (x86_64-pc-windows-msvc)
//   lib/Mac/libgsms.dylib                    (universal: lipo of aarch64- and x86_64-apple-darwin)
//   lib/Linux/libgsms.so                     (x86_64-unknown-linux-gnu)
//   lib/Android/arm64-v8a/libgsms.so         (aarch64-linux-android)
//   lib/IOS/libgsms.a                        (aarch64-apple-ios, static: iOS links everything in)
using System.IO;
using UnrealBuildTool;

public class GsmsLibrary : ModuleRules
{
	public GsmsLibrary(ReadOnlyTargetRules Target) : base(Target)
	{
		Type = ModuleType.External;
		PublicSystemIncludePaths.Add(Path.Combine(ModuleDirectory, "include"));

		string LibDir = Path.Combine(ModuleDirectory, "lib");
		bool bSupported = true;

		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			string Dir = Path.Combine(LibDir, "Win64");
			PublicAdditionalLibraries.Add(Path.Combine(Dir, "gsms.dll.lib"));
			// Loaded by FGsmsModule::StartupModule from the plugin's Binaries folder.
			PublicDelayLoadDLLs.Add("gsms.dll");
			RuntimeDependencies.Add("$(PluginDir)/Binaries/ThirdParty/GsmsLibrary/Win64/gsms.dll", Path.Combine(Dir, "gsms.dll"));
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			string Dylib = Path.Combine(LibDir, "Mac", "libgsms.dylib");
			PublicDelayLoadDLLs.Add(Dylib);
			RuntimeDependencies.Add("$(PluginDir)/Binaries/ThirdParty/GsmsLibrary/Mac/libgsms.dylib", Dylib);
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux)
		{
			string So = Path.Combine(LibDir, "Linux", "libgsms.so");
			PublicAdditionalLibraries.Add(So);
			RuntimeDependencies.Add("$(PluginDir)/Binaries/ThirdParty/GsmsLibrary/Linux/libgsms.so", So);
		}
		else if (Target.Platform == UnrealTargetPlatform.Android)
		{
			PublicAdditionalLibraries.Add(Path.Combine(LibDir, "Android", "arm64-v8a", "libgsms.so"));
			// Copies the .so into the APK (libs/arm64-v8a).
			AdditionalPropertiesForReceipt.Add("AndroidPlugin", Path.Combine(ModuleDirectory, "GsmsLibrary_APL.xml"));
		}
		else if (Target.Platform == UnrealTargetPlatform.IOS)
		{
			PublicAdditionalLibraries.Add(Path.Combine(LibDir, "IOS", "libgsms.a"));
			PublicFrameworks.Add("Security");  // ring's random numbers (SecRandomCopyBytes)
		}
		else
		{
			bSupported = false;
		}

		PublicDefinitions.Add("WITH_GSMS=" + (bSupported ? "1" : "0"));
	}
}
