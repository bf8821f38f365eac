// The agent runs on Linux only, and so do the tests of its parts.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
