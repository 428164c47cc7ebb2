"""The official holiday calendar (节假日安排) as data: holidays and make-up working days by
date, with the State Council notice each comes from; the working-day clock reads it."""
