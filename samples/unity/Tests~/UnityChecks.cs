// Reflection checks of the package's compiled C# (run by scripts/test_samples.sh):
//   mono UnityChecks.exe <assembly.dll> <expected DllImport library name>
// - every extern method of Gsms.GsmsNative imports the expected library ("gsms", or
//   "__Internal" in an iOS player build), with Cdecl;
// - every method handed to native code as a callback (static, taking an IntPtr user data first)
//   carries [MonoPInvokeCallback], as IL2CPP requires;
// - no P/Invoke signature uses bool or string (flags are uint32_t; strings are UTF-8 by hand).
using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

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
                if (!m.GetCustomAttributes(false).Any(a => a.GetType().Name == "MonoPInvokeCallbackAttribute"))
                {
                    Console.WriteLine("callback " + type.Name + "." + m.Name + " lacks [MonoPInvokeCallback]");
                    problems++;
                }
            }
        }
        Console.WriteLine("{0} imports from \"{1}\", {2} callbacks checked, {3} problems", externs.Length, expected, callbacks, problems);
        return problems == 0 && externs.Length > 0 && callbacks >= 4 ? 0 : 1;
    }
}
