// The prebuilt libgsms. One folder per platform, linked from and staged from the same place:
//   <plugin>/Binaries/ThirdParty/GsmsLibrary/<Platform>/
//     Win64/gsms.dll, gsms.lib         (gsms.lib: the MSVC import library of the SDK archive)
//     Mac/libgsms.dylib                (arm64, or universal: lipo of arm64 and x86_64)
//     Linux/libgsms.so                 (x86_64-unknown-linux-gnu)
//     LinuxArm64/libgsms.so            (aarch64-unknown-linux-gnu)
//     Android/arm64-v8a/libgsms.so     (aarch64-linux-android; packaged by GsmsLibrary_APL.xml)
//     IOS/libgsms.a                    (aarch64-apple-ios, static: iOS links everything in)
// and include/gsms.h next to this file. samples/stage_native_libs.sh unreal puts them there.
using System.IO;
using UnrealBuildTool;

public class GsmsLibrary : ModuleRules
{
	public GsmsLibrary(ReadOnlyTargetRules Target) : base(Target)
	{
		Type = ModuleType.External;
		PublicSystemIncludePaths.Add(Path.Combine(ModuleDirectory, "include"));

		// The one folder of this platform: Dir to link against, Staged (the same folder, as
		// RuntimeDependencies names it) to ship with the game.
		string Rel = "Binaries/ThirdParty/GsmsLibrary/" + Target.Platform.ToString();
		string Dir = Path.Combine(PluginDirectory, Rel);
		string Staged = "$(PluginDir)/" + Rel;
		bool bSupported = true;

		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			PublicAdditionalLibraries.Add(Path.Combine(Dir, "gsms.lib"));
			// Loaded by FGsmsModule::StartupModule from this folder.
			PublicDelayLoadDLLs.Add("gsms.dll");
			RuntimeDependencies.Add(Staged + "/gsms.dll");
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			PublicDelayLoadDLLs.Add(Path.Combine(Dir, "libgsms.dylib"));
			RuntimeDependencies.Add(Staged + "/libgsms.dylib");
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux || Target.Platform == UnrealTargetPlatform.LinuxArm64)
		{
			PublicAdditionalLibraries.Add(Path.Combine(Dir, "libgsms.so"));
			RuntimeDependencies.Add(Staged + "/libgsms.so");
		}
		else if (Target.Platform == UnrealTargetPlatform.Android)
		{
			PublicAdditionalLibraries.Add(Path.Combine(Dir, "arm64-v8a", "libgsms.so"));
			// Copies the same file into the APK (libs/arm64-v8a).
			AdditionalPropertiesForReceipt.Add("AndroidPlugin", Path.Combine(ModuleDirectory, "GsmsLibrary_APL.xml"));
		}
		else if (Target.Platform == UnrealTargetPlatform.IOS)
		{
			PublicAdditionalLibraries.Add(Path.Combine(Dir, "libgsms.a"));
			PublicFrameworks.Add("Security");  // ring's random numbers (SecRandomCopyBytes)
		}
		else
		{
			bSupported = false;
		}

		PublicDefinitions.Add("WITH_GSMS=" + (bSupported ? "1" : "0"));
	}
}
