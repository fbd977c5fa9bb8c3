"""E-mail: composing alert and digest e-mails, the outbox's delivery, unsubscribe links."""
