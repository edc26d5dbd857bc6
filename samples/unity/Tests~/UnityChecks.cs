// Reflection checks of the package's compiled C# (run by scripts/test_samples.sh):
//   mono UnityChecks.exe <assembly.dll> <expected DllImport library name> [<emulator base URL> <title id>]
// - every extern method of Gsms.GsmsNative imports the expected library ("gsms", or
//   "__Internal" in an iOS player build), with Cdecl;
// - every method handed to native code as a callback (static, taking an IntPtr user data first)
//   carries [MonoPInvokeCallback(typeof(D))], as IL2CPP requires, where D is a delegate type whose
//   signature is the method's and which is [UnmanagedFunctionPointer(Cdecl)] (read from the
//   attribute's metadata, so this holds whatever the attribute class itself keeps: the stub one
//   keeps nothing);
// - no P/Invoke signature uses bool or string (flags are uint32_t; strings are UTF-8 by hand);
// - with an emulator URL: drives GsmsAllocateDemo as the editor would (OnEnable, Allocate, one
//   Update per frame, leaving play mode), once with callbacks and once callback-free, printing
//   each new status line; the callback run must show a Queued status (occupy the title's only
//   server first) and end Fulfilled, and leaving play mode must free the client.
using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

static class UnityChecks
{
    static int Main(string[] args)
    {
        var asm = Assembly.LoadFrom(args[0]);
        string expected = args[1];
        int problems = 0;
        var native = asm.GetType("Gsms.GsmsNative", true);
        var externs = native.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0).ToArray();
        foreach (var m in externs)
        {
            var dll = (DllImportAttribute)m.GetCustomAttributes(typeof(DllImportAttribute), false).FirstOrDefault();
            if (dll == null || dll.Value != expected || dll.CallingConvention != CallingConvention.Cdecl)
            {
                Console.WriteLine("wrong import of " + m.Name + ": " + (dll == null ? "none" : dll.Value + " " + dll.CallingConvention));
                problems++;
            }
            foreach (var p in m.GetParameters().Select(p => p.ParameterType).Concat(new[] { m.ReturnType }))
            {
                var t = p.IsByRef ? p.GetElementType() : p;
                if (t == typeof(bool) || t == typeof(string))
                {
                    Console.WriteLine(m.Name + " marshals " + t.Name);
                    problems++;
                }
            }
        }
        int callbacks = 0;
        foreach (var type in asm.GetTypes())
        {
            foreach (var m in type.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            {
                var ps = m.GetParameters();
                bool isTrampoline = type.Namespace == "Gsms" && ps.Length >= 2 && ps[0].ParameterType == typeof(IntPtr)
                    && ps[0].Name == "userData" && (m.Attributes & MethodAttributes.PinvokeImpl) == 0;
                if (!isTrampoline) continue;
                callbacks++;
                var attr = m.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.Name == "MonoPInvokeCallbackAttribute");
                if (attr == null)
                {
                    Console.WriteLine("callback " + type.Name + "." + m.Name + " lacks [MonoPInvokeCallback]");
                    problems++;
                    continue;
                }
                var named = attr.ConstructorArguments.Count == 1 ? attr.ConstructorArguments[0].Value as Type : null;
                string why = DelegateMismatch(named, m);
                if (why != null)
                {
                    Console.WriteLine("callback " + type.Name + "." + m.Name + ": [MonoPInvokeCallback] " + why);
                    problems++;
                }
            }
        }
        Console.WriteLine("{0} imports from \"{1}\", {2} callbacks checked, {3} problems", externs.Length, expected, callbacks, problems);
        if (problems != 0 || externs.Length == 0 || callbacks < 4) return 1;
        if (args.Length >= 4)
        {
            if (!DriveDemo(asm, args[2], long.Parse(args[3]), false, true)) return 1;
            if (!DriveDemo(asm, args[2], long.Parse(args[3]) + 1, true, false)) return 1;
        }
        return 0;
    }

    static string Signature(Type ret, Type[] ps)
    {
        return ret.Name + "(" + string.Join(", ", ps.Select(p => p.Name).ToArray()) + ")";
    }

    // Why `d` is not the delegate type IL2CPP needs for `m` (null when it is).
    static string DelegateMismatch(Type d, MethodInfo m)
    {
        if (d == null) return "names no delegate type";
        if (!typeof(Delegate).IsAssignableFrom(d)) return "names " + d.Name + ", which is not a delegate type";
        var invoke = d.GetMethod("Invoke");
        var want = invoke.GetParameters().Select(p => p.ParameterType).ToArray();
        var have = m.GetParameters().Select(p => p.ParameterType).ToArray();
        if (invoke.ReturnType != m.ReturnType || !want.SequenceEqual(have))
            return "names " + d.Name + " " + Signature(invoke.ReturnType, want) + " but the method is " + Signature(m.ReturnType, have);
        var ufp = (UnmanagedFunctionPointerAttribute)d.GetCustomAttributes(typeof(UnmanagedFunctionPointerAttribute), false).FirstOrDefault();
        if (ufp == null || ufp.CallingConvention != CallingConvention.Cdecl) return "names " + d.Name + ", which is not [UnmanagedFunctionPointer(Cdecl)]";
        return null;
    }

    static bool DriveDemo(Assembly asm, string baseUrl, long titleId, bool callbackFree, bool mustQueue)
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var type = asm.GetType("GsmsAllocateDemo", true);
        object demo = Activator.CreateInstance(type);
        type.GetField("baseUrl", Any).SetValue(demo, baseUrl);
        type.GetField("titleId", Any).SetValue(demo, titleId);
        type.GetField("sessionName", Any).SetValue(demo, callbackFree ? "unity-polling" : "unity-callbacks");
        type.GetField("callbackFree", Any).SetValue(demo, callbackFree);
        Func<string> status = () => (string)type.GetField("status", Any).GetValue(demo);
        Action<string> call = name => type.GetMethod(name, Any).Invoke(demo, null);

        string mode = callbackFree ? "unity demo (callback-free)" : "unity demo (callbacks)";
        call("OnEnable");
        call("Allocate");
        string last = null;
        bool queued = false;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            call("Update");  // one frame
            string s = status();
            if (s != last)
            {
                Console.WriteLine(mode + ": " + s);
                last = s;
            }
            if (s.StartsWith("Queued")) queued = true;
            if (s.StartsWith("Fulfilled") || s.StartsWith("Failed") || s.StartsWith("No server") || s.StartsWith("Could not")) break;
            Thread.Sleep(16);
        }
        // Leaving play mode frees the client (the editor raises playModeStateChanged first).
        var editor = asm.GetType("UnityEditor.EditorApplication", true);
        var change = asm.GetType("UnityEditor.PlayModeStateChange", true);
        editor.GetMethod("Raise").Invoke(null, new[] { Enum.Parse(change, "ExitingPlayMode") });
        bool freed = type.GetField("client", Any).GetValue(demo) == null;
        call("OnDisable");  // then Unity disables the behaviour: must be harmless
        Console.WriteLine(mode + ": client freed on leaving play mode: " + freed);
        return last != null && last.StartsWith("Fulfilled") && freed && (queued || !mustQueue);
    }
}
