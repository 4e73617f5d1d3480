//! The tables, identical on SQLite and MySQL (see `migrations/sqlite` and `migrations/mysql`).

diesel::table! {
    companies (id) {
        id -> BigInt,
        name -> Text,
        seat_limit -> Integer,
        plan_id -> Text,
        system_prompt -> Nullable<Text>,
        created_at -> BigInt,
        billing_period_start -> Nullable<BigInt>,
        billing_period_end -> Nullable<BigInt>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        company_id -> Nullable<BigInt>,
        personal_cap -> Nullable<BigInt>,
        plan_id -> Text,
        locale -> Text,
        disabled -> Bool,
        created_at -> BigInt,
        billing_period_start -> Nullable<BigInt>,
        billing_period_end -> Nullable<BigInt>,
    }
}

diesel::table! {
    invitations (token_hash) {
        token_hash -> Text,
        company_id -> BigInt,
        email -> Text,
        role -> Text,
        invited_by -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        accepted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        kind -> Text,
        csrf_token -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> BigInt,
        actor -> Nullable<BigInt>,
        action -> Text,
        target -> Text,
        ip -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        user_id -> BigInt,
        author -> Text,
        sealed -> Binary,
        created_at -> BigInt,
        tokens -> BigInt,
    }
}

diesel::table! {
    documents (id) {
        id -> BigInt,
        title -> Text,
        source -> Text,
        content_hash -> Text,
        format -> Text,
        pages -> Integer,
        ingested_at -> BigInt,
    }
}

diesel::table! {
    passages (id) {
        id -> BigInt,
        document_id -> BigInt,
        ordinal -> Integer,
        text -> Text,
        page -> Nullable<Integer>,
        heading -> Nullable<Text>,
        token_count -> Integer,
    }
}

diesel::table! {
    usage_counters (subject, period_key) {
        subject -> Text,
        period_key -> BigInt,
        used -> BigInt,
        reserved -> BigInt,
    }
}

diesel::table! {
    topups (subject) {
        subject -> Text,
        balance -> BigInt,
        reserved -> BigInt,
    }
}

diesel::table! {
    reservations (id, subject) {
        id -> BigInt,
        subject -> Text,
        period_key -> BigInt,
        from_allowance -> BigInt,
        from_topup -> BigInt,
        amount -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(users, companies, sessions, invitations, messages);
diesel::allow_tables_to_appear_in_same_query!(usage_counters, topups);

diesel::table! {
    job_leases (job) {
        job -> Text,
        holder -> Text,
        expires_at -> BigInt,
        progress -> Text,
    }
}

diesel::table! {
    safety_events (day) {
        day -> BigInt,
        count -> BigInt,
    }
}

diesel::table! {
    kv (name) {
        name -> Text,
        value -> Binary,
    }
}

diesel::table! {
    /// One sealed plan per person; goes with the person (`ON DELETE CASCADE`).
    safety_plans (user_id) {
        user_id -> BigInt,
        sealed -> Binary,
        updated_at -> BigInt,
    }
}
