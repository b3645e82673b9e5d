// Package headless holds the one way canvasd starts headless Chromium: the
// browser tests, the security tests and the digitize corpus renderer all use
// it, so the flags that this workplace's closed network needs (no background
// networking, no component updates, no sync) are written once.
package headless

import "github.com/chromedp/chromedp"

// Path is Debian's Chromium.
const Path = "/usr/bin/chromium"

// Options are the allocator options for a headless Chromium with its own
// empty profile in userDataDir; extra options (window size, font hinting)
// come after and win.
func Options(userDataDir string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	return append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(userDataDir),
	}, extra...)
}
