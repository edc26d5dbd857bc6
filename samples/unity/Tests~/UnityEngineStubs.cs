// Just enough of UnityEngine / UnityEditor / AOT for scripts/test_samples.sh to compile the
// package's C# with Mono's mcs (Unity itself cannot run here). Not part of the package.
using System;

namespace UnityEngine
{
    public class Object { }
    public class Component : Object { }
    public class Behaviour : Component { public bool enabled; }
    public class MonoBehaviour : Behaviour { }
    public struct Rect { public Rect(float x, float y, float width, float height) { } }
    public static class Debug
    {
        public static void Log(object message) { Console.WriteLine(message); }
        public static void LogWarning(object message) { Console.WriteLine(message); }
        public static void LogError(object message) { Console.Error.WriteLine(message); }
        public static void LogException(Exception exception) { Console.Error.WriteLine(exception); }
    }
    public static class GUILayout
    {
        public static void Label(string text) { }
        public static bool Button(string text) { return false; }
        public static void BeginArea(Rect rect) { }
        public static void EndArea() { }
    }
    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute { public TooltipAttribute(string tooltip) { } }
    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute { }
}

namespace UnityEditor
{
    public enum PlayModeStateChange { EnteredEditMode, ExitingEditMode, EnteredPlayMode, ExitingPlayMode }
    public static class EditorApplication
    {
        public static event Action<PlayModeStateChange> playModeStateChanged;
        public static void Raise(PlayModeStateChange change) { if (playModeStateChanged != null) playModeStateChanged(change); }
    }
}

namespace AOT
{
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class MonoPInvokeCallbackAttribute : Attribute { public MonoPInvokeCallbackAttribute(Type type) { } }
}
