"""Notices to applicants (告知书): a numbered PDF per outcome, its SMS text, and delivery."""
