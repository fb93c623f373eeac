import TrellisLedger
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT (Ctrl-C), SIGTERM and SIGHUP remove the temporary files of the work in progress
/// (``TemporaryFiles``: an export's `.partial-<pid>`, a snapshot) and then end the process by
/// the same signal, so the shell still sees 130 / 143 / 129. SQLite needs nothing: an
/// interrupted transaction is rolled back from its journal by the next opener.
enum Interruption {
    static func install() {
        TemporaryFiles.prepare()
        // A blocked mask is inherited across exec: a parent that spawns us from a thread
        // with these blocked (Foundation's `Process` on Linux does) would leave Ctrl-C and
        // `kill` without effect until the work is done.
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let previous = signal(sig, { sig in
                TemporaryFiles.removeAllRegistered()
                signal(sig, SIG_DFL)
                raise(sig)  // delivered when the handler returns: the default action ends the process
            })
            // A signal the parent ignores (`nohup`, a background job) stays ignored.
            if unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { signal(sig, SIG_IGN) }
        }
    }
}
