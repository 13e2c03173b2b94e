// Admin operations; see the admin issue.
export {};
